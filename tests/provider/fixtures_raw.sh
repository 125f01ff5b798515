#!/usr/bin/env bash
# Captures the raw HTTP answers of the emulator to every list call (and the
# per-record calls) of the 37 types, as a lister sends them: SigV4-signed
# curl, no SDK. For writing and checking listers and fixtures.md.
#
#   MOTO_URL=... RAW_OUT=dir tests/provider/fixtures_raw.sh
#
# Run after fixtures.sh (it reads nothing else and changes nothing). Each
# call is saved as RAW_OUT/<type>.<label>.txt: the request line, then the
# response's status, headers and body. Page-size probes (label
# "page") show whether moto honours the page size and what token it sends.
set -euo pipefail
: "${MOTO_URL:?set MOTO_URL}" "${RAW_OUT:?set RAW_OUT}"
MOTO_URL=${MOTO_URL%/}
mkdir -p "$RAW_OUT"
T=us-east-1

# raw TYPE LABEL SERVICE REGION METHOD PATH [curl args...]
raw() {
	local type=$1 label=$2 svc=$3 region=$4 method=$5 path=$6
	shift 6
	local f="$RAW_OUT/$type.$label.txt"
	{
		echo "> $method $path  (SigV4 service=$svc region=$region)"
		local a
		for a in "$@"; do
			case $a in -H | -d | --data-binary) ;; *) echo "> $a" ;; esac
		done
		echo
	} >"$f"
	curl -sS -i -X "$method" --aws-sigv4 "aws:amz:$region:$svc" --user test:test \
		"$@" "$MOTO_URL$path" >>"$f" || { echo "fixtures_raw: FAILED [$type] $label" >&2; exit 1; }
	echo >>"$f"
}
body() { sed -n '/^\r\{0,1\}$/,$p' "$RAW_OUT/$1.$2.txt"; } # type label
ec2() { # type label Action [params]
	raw "$1" "$2" ec2 $T POST / -H 'Content-Type: application/x-www-form-urlencoded' \
		-d "Action=$3&Version=2016-11-15${4:+&$4}"
}
query() { # type label svc version Action [params]
	raw "$1" "$2" "$3" "${R:-$T}" POST / -H 'Content-Type: application/x-www-form-urlencoded' \
		-d "Action=$5&Version=$4${6:+&$6}"
}
json() { # type label svc target version body
	raw "$1" "$2" "$3" $T POST / -H "X-Amz-Target: $4" \
		-H "Content-Type: application/x-amz-json-$5" --data-binary "$6"
}
first() { grep -o "$1" | head -1 | sed "s|$2||"; } # regex strip

# ------------------------------------------------------------------- EC2
ec2 vpc list DescribeVpcs
ec2 vpc page DescribeVpcs MaxResults=5
ec2 subnet list DescribeSubnets
ec2 subnet page DescribeSubnets MaxResults=5
ec2 security_group list DescribeSecurityGroups
ec2 security_group page DescribeSecurityGroups MaxResults=5
ec2 internet_gateway list DescribeInternetGateways
ec2 internet_gateway page DescribeInternetGateways MaxResults=5
ec2 route_table list DescribeRouteTables
ec2 route_table page DescribeRouteTables MaxResults=5
ec2 network_interface list DescribeNetworkInterfaces
ec2 network_interface page DescribeNetworkInterfaces MaxResults=5
ec2 vpc_endpoint list DescribeVpcEndpoints
ec2 vpc_endpoint page DescribeVpcEndpoints MaxResults=5
ec2 elastic_ip list DescribeAddresses
ec2 nat_gateway list DescribeNatGateways
ec2 nat_gateway page DescribeNatGateways MaxResults=5
ec2 key_pair list DescribeKeyPairs
ec2 launch_template list DescribeLaunchTemplates
ec2 launch_template page DescribeLaunchTemplates MaxResults=5
ec2 ec2_instance list DescribeInstances
ec2 ec2_instance page DescribeInstances MaxResults=5
ec2 ebs_volume list DescribeVolumes
ec2 ebs_volume page DescribeVolumes MaxResults=5
ec2 ebs_snapshot list DescribeSnapshots Owner.1=self
ec2 ebs_snapshot page DescribeSnapshots Owner.1=self\&MaxResults=5
ec2 ami list DescribeImages Owner.1=self
ec2 ami page DescribeImages Owner.1=self\&MaxResults=5

# ------------------------------------------------------------ ELB and ASG
query load_balancer list elasticloadbalancing 2015-12-01 DescribeLoadBalancers
query load_balancer page elasticloadbalancing 2015-12-01 DescribeLoadBalancers PageSize=1
lb=$(body load_balancer list | first '<LoadBalancerArn>[^<]*' '<LoadBalancerArn>')
query load_balancer tags elasticloadbalancing 2015-12-01 DescribeTags "ResourceArns.member.1=$lb"
query target_group list elasticloadbalancing 2015-12-01 DescribeTargetGroups
query target_group page elasticloadbalancing 2015-12-01 DescribeTargetGroups PageSize=1
query autoscaling_group list autoscaling 2011-01-01 DescribeAutoScalingGroups
query autoscaling_group page autoscaling 2011-01-01 DescribeAutoScalingGroups MaxRecords=1

# ------------------------------------------------------------------- RDS
query rds_instance list rds 2014-10-31 DescribeDBInstances
query rds_instance page rds 2014-10-31 DescribeDBInstances MaxRecords=20
query rds_instance tags rds 2014-10-31 ListTagsForResource \
	"ResourceName=arn:aws:rds:$T:123456789012:db:fx-rds-instance-1"
query rds_cluster list rds 2014-10-31 DescribeDBClusters
query rds_snapshot list rds 2014-10-31 DescribeDBSnapshots
query rds_snapshot page rds 2014-10-31 DescribeDBSnapshots MaxRecords=20

# -------------------------------------------------------------------- S3
raw s3_bucket list s3 $T GET /
raw s3_bucket page s3 $T GET '/?max-buckets=1'
raw s3_bucket location-us s3 $T GET /fx-s3-bucket-1?location
raw s3_bucket location-eu s3 $T GET /fx-s3-bucket-2?location
raw s3_bucket tagging s3 $T GET /fx-s3-bucket-1?tagging
raw s3_bucket tagging-eu-signed-us s3 $T GET /fx-s3-bucket-2?tagging

# ---------------------------------------------------------------- Lambda
raw lambda_function list lambda $T GET /2015-03-31/functions/
raw lambda_function page lambda $T GET '/2015-03-31/functions/?MaxItems=1'
fn=$(body lambda_function list | first '"FunctionArn": *"[^"]*' '"FunctionArn": *"')
raw lambda_function tags lambda $T GET "/2017-03-31/tags/$fn"

# -------------------------------------------------------------- DynamoDB
json dynamodb_table list dynamodb DynamoDB_20120810.ListTables 1.0 '{}'
json dynamodb_table page dynamodb DynamoDB_20120810.ListTables 1.0 '{"Limit":1}'
json dynamodb_table describe dynamodb DynamoDB_20120810.DescribeTable 1.0 '{"TableName":"fx-dynamodb-table-1"}'
json dynamodb_table tags dynamodb DynamoDB_20120810.ListTagsOfResource 1.0 \
	"{\"ResourceArn\":\"arn:aws:dynamodb:$T:123456789012:table/fx-dynamodb-table-1\"}"

# ------------------------------------------------------------- SQS / SNS
json sqs_queue list sqs AmazonSQS.ListQueues 1.0 '{}'
json sqs_queue page sqs AmazonSQS.ListQueues 1.0 '{"MaxResults":1}'
q=$(body sqs_queue list | first '"http[^"]*' '"')
json sqs_queue attrs sqs AmazonSQS.GetQueueAttributes 1.0 "{\"QueueUrl\":\"$q\",\"AttributeNames\":[\"All\"]}"
json sqs_queue tags sqs AmazonSQS.ListQueueTags 1.0 "{\"QueueUrl\":\"$q\"}"
query sqs_queue list-query sqs 2012-11-05 ListQueues
query sns_topic list sns 2010-03-31 ListTopics
t=$(body sns_topic list | first '<TopicArn>[^<]*' '<TopicArn>')
query sns_topic attrs sns 2010-03-31 GetTopicAttributes "TopicArn=$t"
query sns_topic tags sns 2010-03-31 ListTagsForResource "ResourceArn=$t"

# ------------------------------------------------------------------- IAM
query iam_role list iam 2010-05-08 ListRoles
query iam_role page iam 2010-05-08 ListRoles MaxItems=1
query iam_role tags iam 2010-05-08 ListRoleTags RoleName=fx-iam-role-1
query iam_user list iam 2010-05-08 ListUsers
query iam_user page iam 2010-05-08 ListUsers MaxItems=1
query iam_user tags iam 2010-05-08 ListUserTags UserName=fx-iam-user-1

# ------------------------------------------------------------------- KMS
json kms_key list kms TrentService.ListKeys 1.1 '{}'
json kms_key page kms TrentService.ListKeys 1.1 '{"Limit":1}'
k=$(body kms_key list | first '"KeyId": *"[^"]*' '"KeyId": *"')
json kms_key describe kms TrentService.DescribeKey 1.1 "{\"KeyId\":\"$k\"}"
json kms_key tags kms TrentService.ListResourceTags 1.1 "{\"KeyId\":\"$k\"}"

# --------------------------------------------------------------- Route53
raw route53_zone list route53 $T GET /2013-04-01/hostedzone
raw route53_zone page route53 $T GET '/2013-04-01/hostedzone?maxitems=1'
z=$(body route53_zone list | first '<Id>/hostedzone/[^<]*' '<Id>/hostedzone/')
raw route53_zone tags route53 $T GET "/2013-04-01/tags/hostedzone/$z"

# ------------------------------------------------------------------ Logs
json log_group list logs Logs_20140328.DescribeLogGroups 1.1 '{}'
json log_group page logs Logs_20140328.DescribeLogGroups 1.1 '{"limit":1}'
json log_group tags logs Logs_20140328.ListTagsLogGroup 1.1 '{"logGroupName":"/fx/fx-log-group-1"}'
json log_group tags-arn logs Logs_20140328.ListTagsForResource 1.1 \
	"{\"resourceArn\":\"arn:aws:logs:$T:123456789012:log-group:/fx/fx-log-group-1\"}"

# ------------------------------------------------------- ECR / EKS / ECS
json ecr_repository list ecr AmazonEC2ContainerRegistry_V20150921.DescribeRepositories 1.1 '{}'
json ecr_repository page ecr AmazonEC2ContainerRegistry_V20150921.DescribeRepositories 1.1 '{"maxResults":1}'
json ecr_repository tags ecr AmazonEC2ContainerRegistry_V20150921.ListTagsForResource 1.1 \
	"{\"resourceArn\":\"arn:aws:ecr:$T:123456789012:repository/fx-ecr-repository-1\"}"
raw eks_cluster list eks $T GET /clusters
raw eks_cluster page eks $T GET '/clusters?maxResults=1'
raw eks_cluster describe eks $T GET /clusters/fx-eks-cluster-1
json ecs_cluster list ecs AmazonEC2ContainerServiceV20141113.ListClusters 1.1 '{}'
json ecs_cluster page ecs AmazonEC2ContainerServiceV20141113.ListClusters 1.1 '{"maxResults":1}'
json ecs_cluster describe ecs AmazonEC2ContainerServiceV20141113.DescribeClusters 1.1 \
	"{\"clusters\":[\"arn:aws:ecs:$T:123456789012:cluster/fx-ecs-cluster-1\"],\"include\":[\"TAGS\"]}"

# ---------------------------------------------- ElastiCache, Secrets, CFN
query elasticache_cluster list elasticache 2015-02-02 DescribeCacheClusters
query elasticache_cluster page elasticache 2015-02-02 DescribeCacheClusters MaxRecords=20
query elasticache_cluster tags elasticache 2015-02-02 ListTagsForResource \
	"ResourceName=arn:aws:elasticache:$T:123456789012:cluster:fx-cache-1"
json secret list secretsmanager secretsmanager.ListSecrets 1.1 '{}'
json secret page secretsmanager secretsmanager.ListSecrets 1.1 '{"MaxResults":1}'
query cloudformation_stack list cloudformation 2010-05-15 DescribeStacks

echo "fixtures_raw: $(find "$RAW_OUT" -name "*.txt" | wc -l) answers in $RAW_OUT" >&2
