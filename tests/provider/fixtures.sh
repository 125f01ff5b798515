#!/usr/bin/env bash
# shellcheck disable=SC2046,SC2119,SC2016 # tag lists are split into words on purpose
# Test fixture for the AWS provider's integration test: creates, on the AWS
# emulator at $MOTO_URL, two resources (three S3 buckets) of each of the 37
# types Elava lists, then dumps what awscli reports for each type into
# $FIXTURE_OUT/<type>.json as {"type", "region", "id_field", "items"} with
# "Tags" as a {key: value} object (see fixtures_norm.py, fixtures.md).
#
#   MOTO_URL=http://127.0.0.1:PORT FIXTURE_OUT=dir tests/provider/fixtures.sh
#
# The server is reset first (POST /moto-api/reset) so the result does not
# depend on what was there; FIXTURE_RESET=0 skips that (then the names
# below must be free). Tags: Name=fx-<type>-<n>, Env=test; resource names
# are fx-<type with '-' for '_'>-<n>. fixtures_mutate.sh changes the
# result for a second listing. Exit 0, or 1 with "FAILED [<type>]: ...".
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/fixtures_lib.sh"

if [ "${FIXTURE_RESET:-1}" != 0 ]; then
	curl -sf -X POST "$MOTO_URL/moto-api/reset" >/dev/null ||
		fx_die "cannot reset the emulator at $MOTO_URL"
fi

nm() { echo "fx-${FX_TYPE//_/-}-$1"; } # resource name n
q() { fx "$@" --output text; }         # one scalar out of --query

AZ1=${FX_REGION}a AZ2=${FX_REGION}b

# ------------------------------------------------------------------- EC2
FX_TYPE=vpc
VPC1=$(q ec2 create-vpc --cidr-block 10.10.0.0/16 --tag-specifications "$(fx_ts vpc 1)" --query Vpc.VpcId)
q ec2 create-vpc --cidr-block 10.20.0.0/16 --tag-specifications "$(fx_ts vpc 2)" --query Vpc.VpcId >/dev/null

FX_TYPE=subnet
SUB1=$(q ec2 create-subnet --vpc-id "$VPC1" --cidr-block 10.10.1.0/24 --availability-zone "$AZ1" \
	--tag-specifications "$(fx_ts subnet 1)" --query Subnet.SubnetId)
SUB2=$(q ec2 create-subnet --vpc-id "$VPC1" --cidr-block 10.10.2.0/24 --availability-zone "$AZ2" \
	--tag-specifications "$(fx_ts subnet 2)" --query Subnet.SubnetId)
fx ec2 modify-subnet-attribute --subnet-id "$SUB1" --map-public-ip-on-launch >/dev/null

FX_TYPE=security_group
SG1=$(q ec2 create-security-group --group-name "$(nm 1)" --description "fixture sg 1" --vpc-id "$VPC1" \
	--tag-specifications "$(fx_ts security-group 1)" --query GroupId)
q ec2 create-security-group --group-name "$(nm 2)" --description "fixture sg 2" --vpc-id "$VPC1" \
	--tag-specifications "$(fx_ts security-group 2)" --query GroupId >/dev/null
fx ec2 authorize-security-group-ingress --group-id "$SG1" --protocol tcp --port 443 --cidr 0.0.0.0/0 >/dev/null

FX_TYPE=internet_gateway
IGW1=$(q ec2 create-internet-gateway --tag-specifications "$(fx_ts internet-gateway 1)" \
	--query InternetGateway.InternetGatewayId)
fx ec2 attach-internet-gateway --internet-gateway-id "$IGW1" --vpc-id "$VPC1" >/dev/null
q ec2 create-internet-gateway --tag-specifications "$(fx_ts internet-gateway 2)" \
	--query InternetGateway.InternetGatewayId >/dev/null

FX_TYPE=route_table
RT1=$(q ec2 create-route-table --vpc-id "$VPC1" --tag-specifications "$(fx_ts route-table 1)" \
	--query RouteTable.RouteTableId)
fx ec2 create-route --route-table-id "$RT1" --destination-cidr-block 0.0.0.0/0 --gateway-id "$IGW1" >/dev/null
fx ec2 associate-route-table --route-table-id "$RT1" --subnet-id "$SUB1" >/dev/null
q ec2 create-route-table --vpc-id "$VPC1" --tag-specifications "$(fx_ts route-table 2)" \
	--query RouteTable.RouteTableId >/dev/null

FX_TYPE=network_interface
q ec2 create-network-interface --subnet-id "$SUB1" --groups "$SG1" --description "$(nm 1)" \
	--tag-specifications "$(fx_ts network-interface 1)" --query NetworkInterface.NetworkInterfaceId >/dev/null
q ec2 create-network-interface --subnet-id "$SUB2" --groups "$SG1" --description "$(nm 2)" \
	--tag-specifications "$(fx_ts network-interface 2)" --query NetworkInterface.NetworkInterfaceId >/dev/null

FX_TYPE=vpc_endpoint
q ec2 create-vpc-endpoint --vpc-id "$VPC1" --service-name "com.amazonaws.$FX_REGION.s3" \
	--route-table-ids "$RT1" --tag-specifications "$(fx_ts vpc-endpoint 1)" \
	--query VpcEndpoint.VpcEndpointId >/dev/null
q ec2 create-vpc-endpoint --vpc-id "$VPC1" --service-name "com.amazonaws.$FX_REGION.sqs" \
	--vpc-endpoint-type Interface --subnet-ids "$SUB1" --security-group-ids "$SG1" \
	--tag-specifications "$(fx_ts vpc-endpoint 2)" --query VpcEndpoint.VpcEndpointId >/dev/null

FX_TYPE=key_pair
fx ec2 create-key-pair --key-name "$(nm 1)" --tag-specifications "$(fx_ts key-pair 1)" >/dev/null
fx ec2 create-key-pair --key-name "$(nm 2)" --key-type ed25519 --tag-specifications "$(fx_ts key-pair 2)" >/dev/null

FX_TYPE=ami # a base image from moto's built-in catalogue
BASE_AMI=$(q ec2 describe-images --owners amazon \
	--filters "Name=name,Values=amzn2-ami-hvm-2.0.*-x86_64-gp2" --query 'Images[0].ImageId')
if [ -z "$BASE_AMI" ] || [ "$BASE_AMI" = None ]; then fx_die "no amzn2 base image in the emulator"; fi

FX_TYPE=launch_template
fx ec2 create-launch-template --launch-template-name "$(nm 1)" \
	--launch-template-data "{\"ImageId\":\"$BASE_AMI\",\"InstanceType\":\"t3.micro\",\"SecurityGroupIds\":[\"$SG1\"]}" \
	--tag-specifications "$(fx_ts launch-template 1)" >/dev/null
fx ec2 create-launch-template --launch-template-name "$(nm 2)" \
	--launch-template-data "{\"ImageId\":\"$BASE_AMI\",\"InstanceType\":\"t3.small\"}" \
	--tag-specifications "$(fx_ts launch-template 2)" >/dev/null

FX_TYPE=ec2_instance
I1=$(q ec2 run-instances --image-id "$BASE_AMI" --instance-type t3.micro --subnet-id "$SUB1" \
	--security-group-ids "$SG1" --key-name fx-key-pair-1 \
	--tag-specifications "$(fx_ts instance 1)" "ResourceType=volume,Tags=[{Key=Env,Value=test}]" \
	--query 'Instances[0].InstanceId')
I2=$(q ec2 run-instances --image-id "$BASE_AMI" --instance-type t3.small --subnet-id "$SUB2" \
	--security-group-ids "$SG1" --tag-specifications "$(fx_ts instance 2)" \
	--query 'Instances[0].InstanceId')

FX_TYPE=ebs_volume
VOL1=$(q ec2 create-volume --availability-zone "$AZ1" --size 8 --volume-type gp3 \
	--tag-specifications "$(fx_ts volume 1)" --query VolumeId)
q ec2 create-volume --availability-zone "$AZ1" --size 20 --volume-type gp2 --encrypted \
	--tag-specifications "$(fx_ts volume 2)" --query VolumeId >/dev/null
fx ec2 attach-volume --volume-id "$VOL1" --instance-id "$I1" --device /dev/sdf >/dev/null

FX_TYPE=ebs_snapshot
q ec2 create-snapshot --volume-id "$VOL1" --description "$(nm 1)" \
	--tag-specifications "$(fx_ts snapshot 1)" --query SnapshotId >/dev/null
q ec2 create-snapshot --volume-id "$VOL1" --description "$(nm 2)" \
	--tag-specifications "$(fx_ts snapshot 2)" --query SnapshotId >/dev/null

FX_TYPE=ami
q ec2 create-image --instance-id "$I1" --name "$(nm 1)" --description "fixture image 1" \
	--tag-specifications "$(fx_ts image 1)" --query ImageId >/dev/null
q ec2 create-image --instance-id "$I2" --name "$(nm 2)" \
	--tag-specifications "$(fx_ts image 2)" --query ImageId >/dev/null

FX_TYPE=elastic_ip
EIP1=$(q ec2 allocate-address --domain vpc --tag-specifications "$(fx_ts elastic-ip 1)" --query AllocationId)
q ec2 allocate-address --domain vpc --tag-specifications "$(fx_ts elastic-ip 2)" --query AllocationId >/dev/null
fx ec2 associate-address --allocation-id "$EIP1" --instance-id "$I1" >/dev/null
EIP_NAT=$(q ec2 allocate-address --domain vpc --query AllocationId) # untagged, used by nat 1

FX_TYPE=nat_gateway
q ec2 create-nat-gateway --subnet-id "$SUB1" --allocation-id "$EIP_NAT" \
	--tag-specifications "$(fx_ts natgateway 1)" --query NatGateway.NatGatewayId >/dev/null
q ec2 create-nat-gateway --subnet-id "$SUB2" --connectivity-type private \
	--tag-specifications "$(fx_ts natgateway 2)" --query NatGateway.NatGatewayId >/dev/null

# ------------------------------------------------------------------- IAM
FX_TYPE=iam_role
trust() { echo "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"Service\":\"$1\"},\"Action\":\"sts:AssumeRole\"}]}"; }
ROLE1=$(q iam create-role --role-name "$(nm 1)" --path /fx/ --description "fixture role 1" \
	--assume-role-policy-document "$(trust lambda.amazonaws.com)" --tags $(fx_kv 1) --query Role.Arn)
ROLE2=$(q iam create-role --role-name "$(nm 2)" \
	--assume-role-policy-document "$(trust eks.amazonaws.com)" --tags $(fx_kv 2) --query Role.Arn)

FX_TYPE=iam_user
fx iam create-user --user-name "$(nm 1)" --tags $(fx_kv 1) >/dev/null
fx iam create-user --user-name "$(nm 2)" --path /fx/ --tags $(fx_kv 2) >/dev/null

# ------------------------------------------------------------ ELB and ASG
FX_TYPE=load_balancer
LB1=$(q elbv2 create-load-balancer --name "$(nm 1)" --type application --subnets "$SUB1" "$SUB2" \
	--security-groups "$SG1" --tags $(fx_kv 1) --query 'LoadBalancers[0].LoadBalancerArn')
q elbv2 create-load-balancer --name "$(nm 2)" --type application --scheme internal \
	--subnets "$SUB1" "$SUB2" --tags $(fx_kv 2) --query 'LoadBalancers[0].LoadBalancerArn' >/dev/null

FX_TYPE=target_group
TG1=$(q elbv2 create-target-group --name "$(nm 1)" --protocol HTTP --port 80 --vpc-id "$VPC1" \
	--target-type instance --tags $(fx_kv 1) --query 'TargetGroups[0].TargetGroupArn')
q elbv2 create-target-group --name "$(nm 2)" --protocol HTTP --port 8080 --vpc-id "$VPC1" \
	--target-type ip --tags $(fx_kv 2) --query 'TargetGroups[0].TargetGroupArn' >/dev/null
fx elbv2 create-listener --load-balancer-arn "$LB1" --protocol HTTP --port 80 \
	--default-actions "Type=forward,TargetGroupArn=$TG1" >/dev/null
fx elbv2 register-targets --target-group-arn "$TG1" --targets "Id=$I1" >/dev/null

FX_TYPE=autoscaling_group
asg_tags() { # n
	echo "ResourceId=$(nm "$1"),ResourceType=auto-scaling-group,Key=Name,Value=fx-$FX_TYPE-$1,PropagateAtLaunch=true" \
		"ResourceId=$(nm "$1"),ResourceType=auto-scaling-group,Key=Env,Value=test,PropagateAtLaunch=false"
}
fx autoscaling create-auto-scaling-group --auto-scaling-group-name "$(nm 1)" \
	--launch-template LaunchTemplateName=fx-launch-template-1,Version='$Latest' \
	--min-size 0 --max-size 2 --desired-capacity 0 --vpc-zone-identifier "$SUB1,$SUB2" \
	--target-group-arns "$TG1" --tags $(asg_tags 1) >/dev/null
fx autoscaling create-auto-scaling-group --auto-scaling-group-name "$(nm 2)" \
	--launch-template LaunchTemplateName=fx-launch-template-2 \
	--min-size 0 --max-size 1 --desired-capacity 0 --vpc-zone-identifier "$SUB2" \
	--tags $(asg_tags 2) >/dev/null

# ------------------------------------------------------------------- RDS
FX_TYPE=rds_instance
fx rds create-db-instance --db-instance-identifier "$(nm 1)" --engine postgres --engine-version 16.3 \
	--db-instance-class db.t3.micro --allocated-storage 20 --master-username fx \
	--master-user-password fixture-pass-1 --publicly-accessible --vpc-security-group-ids "$SG1" \
	--tags $(fx_kv 1) >/dev/null
fx rds create-db-instance --db-instance-identifier "$(nm 2)" --engine mysql \
	--db-instance-class db.t3.small --allocated-storage 50 --master-username fx \
	--master-user-password fixture-pass-2 --storage-encrypted --no-publicly-accessible \
	--tags $(fx_kv 2) >/dev/null

FX_TYPE=rds_cluster
fx rds create-db-cluster --db-cluster-identifier "$(nm 1)" --engine aurora-postgresql \
	--master-username fx --master-user-password fixture-pass-1 --storage-encrypted \
	--tags $(fx_kv 1) >/dev/null
fx rds create-db-cluster --db-cluster-identifier "$(nm 2)" --engine aurora-mysql \
	--master-username fx --master-user-password fixture-pass-2 --tags $(fx_kv 2) >/dev/null

FX_TYPE=rds_snapshot
fx rds create-db-snapshot --db-instance-identifier fx-rds-instance-1 \
	--db-snapshot-identifier "$(nm 1)" --tags $(fx_kv 1) >/dev/null
fx rds create-db-snapshot --db-instance-identifier fx-rds-instance-2 \
	--db-snapshot-identifier "$(nm 2)" --tags $(fx_kv 2) >/dev/null

# -------------------------------------------------------------------- S3
FX_TYPE=s3_bucket
s3_tag() { # bucket n
	fx s3api put-bucket-tagging --bucket "$1" \
		--tagging "TagSet=[{Key=Name,Value=fx-$FX_TYPE-$2},{Key=Env,Value=test}]" >/dev/null
}
fx s3api create-bucket --bucket "$(nm 1)" >/dev/null
s3_tag "$(nm 1)" 1
FX_R=$FX_REGION2 fx s3api create-bucket --bucket "$(nm 2)" \
	--create-bucket-configuration "LocationConstraint=$FX_REGION2" >/dev/null
FX_R=$FX_REGION2 s3_tag "$(nm 2)" 2
fx s3api create-bucket --bucket "$(nm 3)" >/dev/null # deleted by fixtures_mutate.sh
s3_tag "$(nm 3)" 3

# ---------------------------------------------------------------- Lambda
FX_TYPE=lambda_function
printf 'def handler(event, context):\n    return {"ok": True}\n' >"$FX_TMP/index.py"
(cd "$FX_TMP" && "$FX_PY" -c 'import zipfile; z = zipfile.ZipFile("fn.zip", "w"); z.write("index.py"); z.close()')
fx lambda create-function --function-name "$(nm 1)" --runtime python3.12 --role "$ROLE1" \
	--handler index.handler --zip-file "fileb://$FX_TMP/fn.zip" --memory-size 256 --timeout 10 \
	--description "fixture function 1" --tags "Name=fx-$FX_TYPE-1,Env=test" >/dev/null
fx lambda create-function --function-name "$(nm 2)" --runtime nodejs20.x --role "$ROLE1" \
	--handler index.handler --zip-file "fileb://$FX_TMP/fn.zip" \
	--vpc-config "SubnetIds=$SUB1,SecurityGroupIds=$SG1" --tags "Name=fx-$FX_TYPE-2,Env=test" >/dev/null

# -------------------------------------------------------------- DynamoDB
FX_TYPE=dynamodb_table
fx dynamodb create-table --table-name "$(nm 1)" --attribute-definitions AttributeName=pk,AttributeType=S \
	--key-schema AttributeName=pk,KeyType=HASH --billing-mode PAY_PER_REQUEST --tags $(fx_kv 1) >/dev/null
fx dynamodb create-table --table-name "$(nm 2)" \
	--attribute-definitions AttributeName=pk,AttributeType=S AttributeName=sk,AttributeType=N \
	--key-schema AttributeName=pk,KeyType=HASH AttributeName=sk,KeyType=RANGE \
	--provisioned-throughput ReadCapacityUnits=5,WriteCapacityUnits=5 \
	--sse-specification Enabled=true,SSEType=KMS --tags $(fx_kv 2) >/dev/null

# ------------------------------------------------------------- SQS / SNS
FX_TYPE=sqs_queue
fx sqs create-queue --queue-name "$(nm 1)" --tags "Name=fx-$FX_TYPE-1,Env=test" >/dev/null
fx sqs create-queue --queue-name "$(nm 2).fifo" --attributes FifoQueue=true \
	--tags "Name=fx-$FX_TYPE-2,Env=test" >/dev/null

FX_TYPE=sns_topic
fx sns create-topic --name "$(nm 1)" --tags $(fx_kv 1) >/dev/null
fx sns create-topic --name "$(nm 2)" --attributes DisplayName=fixture2 --tags $(fx_kv 2) >/dev/null

# ------------------------------------------------------------------- KMS
FX_TYPE=kms_key
K1=$(q kms create-key --description "$(nm 1)" --tags "TagKey=Name,TagValue=fx-$FX_TYPE-1" TagKey=Env,TagValue=test \
	--query KeyMetadata.KeyId)
fx kms create-alias --alias-name "alias/$(nm 1)" --target-key-id "$K1" >/dev/null
fx kms create-key --description "$(nm 2)" --key-spec RSA_2048 --key-usage SIGN_VERIFY \
	--tags "TagKey=Name,TagValue=fx-$FX_TYPE-2" TagKey=Env,TagValue=test >/dev/null

# --------------------------------------------------------------- Route53
FX_TYPE=route53_zone
Z1=$(q route53 create-hosted-zone --name fx-zone-1.example.com --caller-reference fx-zone-1 \
	--hosted-zone-config Comment=fixture-1 --query HostedZone.Id)
Z2=$(q route53 create-hosted-zone --name fx-zone-2.internal --caller-reference fx-zone-2 \
	--vpc "VPCRegion=$FX_REGION,VPCId=$VPC1" --hosted-zone-config PrivateZone=true --query HostedZone.Id)
fx route53 change-tags-for-resource --resource-type hostedzone --resource-id "${Z1##*/}" --add-tags $(fx_kv 1) >/dev/null
fx route53 change-tags-for-resource --resource-type hostedzone --resource-id "${Z2##*/}" --add-tags $(fx_kv 2) >/dev/null

# ------------------------------------------------------------------ Logs
FX_TYPE=log_group
fx logs create-log-group --log-group-name "/fx/$(nm 1)" --tags "Name=fx-$FX_TYPE-1,Env=test" >/dev/null
fx logs put-retention-policy --log-group-name "/fx/$(nm 1)" --retention-in-days 14 >/dev/null
fx logs create-log-group --log-group-name "/fx/$(nm 2)" --tags "Name=fx-$FX_TYPE-2,Env=test" >/dev/null

# ------------------------------------------------------- ECR / EKS / ECS
FX_TYPE=ecr_repository
fx ecr create-repository --repository-name "$(nm 1)" --tags $(fx_kv 1) >/dev/null
fx ecr create-repository --repository-name "fx/$(nm 2)" --image-tag-mutability IMMUTABLE \
	--image-scanning-configuration scanOnPush=true --tags $(fx_kv 2) >/dev/null

FX_TYPE=eks_cluster
fx eks create-cluster --name "$(nm 1)" --role-arn "$ROLE2" --kubernetes-version 1.30 \
	--resources-vpc-config "subnetIds=$SUB1,$SUB2,securityGroupIds=$SG1" \
	--tags "Name=fx-$FX_TYPE-1,Env=test" >/dev/null
fx eks create-cluster --name "$(nm 2)" --role-arn "$ROLE2" \
	--resources-vpc-config "subnetIds=$SUB1,$SUB2" --tags "Name=fx-$FX_TYPE-2,Env=test" >/dev/null

FX_TYPE=ecs_cluster
fx ecs create-cluster --cluster-name "$(nm 1)" --tags "key=Name,value=fx-$FX_TYPE-1" key=Env,value=test >/dev/null
fx ecs create-cluster --cluster-name "$(nm 2)" --tags "key=Name,value=fx-$FX_TYPE-2" key=Env,value=test >/dev/null

# ------------------------------------------------------------ ElastiCache
FX_TYPE=elasticache_cluster
fx elasticache create-cache-cluster --cache-cluster-id fx-cache-1 --engine redis \
	--cache-node-type cache.t3.micro --num-cache-nodes 1 --tags $(fx_kv 1) >/dev/null
fx elasticache create-cache-cluster --cache-cluster-id fx-cache-2 --engine memcached \
	--cache-node-type cache.t3.small --num-cache-nodes 2 --tags $(fx_kv 2) >/dev/null

# ------------------------------------------------------- Secrets Manager
FX_TYPE=secret
fx secretsmanager create-secret --name "$(nm 1)" --description "fixture secret 1" \
	--secret-string s3cret-1 --tags $(fx_kv 1) >/dev/null
fx secretsmanager create-secret --name "fx/$(nm 2)" --secret-string s3cret-2 --tags $(fx_kv 2) >/dev/null

# -------------------------------------------------------- CloudFormation
FX_TYPE=cloudformation_stack
CFN='{"Resources":{"Handle":{"Type":"AWS::CloudFormation::WaitConditionHandle"}}}'
fx cloudformation create-stack --stack-name "$(nm 1)" --template-body "$CFN" --tags $(fx_kv 1) >/dev/null
fx cloudformation create-stack --stack-name "$(nm 2)" --template-body "$CFN" \
	--parameters '[]' --tags $(fx_kv 2) >/dev/null

# ------------------------------------------------------------------ dump
fx_dump_all
echo "fixtures: created and dumped ${#FX_TYPES[@]} types into $FIXTURE_OUT" >&2
