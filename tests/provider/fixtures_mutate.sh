#!/usr/bin/env bash
# shellcheck disable=SC2046,SC2119,SC2016 # tag lists are split into words on purpose
# Second state of the provider fixture: run after fixtures.sh on the same
# emulator, it changes what is there, then dumps every type again into
# $FIXTURE_OUT (give it another directory than the first dump's).
#
#   MOTO_URL=... FIXTURE_OUT=dir2 tests/provider/fixtures_mutate.sh
#
# Changes (n = the resource number in fixtures.sh's names):
#  - tags, on resource 1 of every type that has tags: Env removed, Name set
#    to fx-<type>-1-mut, Owner=elava added (S3: the whole tag set replaced
#    by those two; CloudFormation: UpdateStack with the new tags);
#  - ec2_instance 2 stopped;
#  - deleted: ebs_volume 2, security_group 2, s3_bucket 3, sqs_queue 2
#    (fx-sqs-queue-2.fifo), iam_user 2.
# Meant to run once after fixtures.sh (a second run fails on the deletes).
set -euo pipefail
. "$(cd "$(dirname "$0")" && pwd)/fixtures_lib.sh"

q() { fx "$@" --output text; }
mut() { echo "fx-$FX_TYPE-1-mut"; } # the new Name tag value
A=arn:aws
ACCT=$FX_REGION:$FX_ACCOUNT

# ------------------------------------------------------------------- EC2
# Resource 1 of every EC2 type, found by its Name tag.
FX_TYPE=ec2-tags
mapfile -t EC2 < <(q ec2 describe-tags --filters Name=key,Values=Name "Name=value,Values=fx-*-1" \
	--query 'Tags[].[ResourceId,Value]')
[ ${#EC2[@]} -eq 15 ] || fx_die "expected resource 1 of 15 EC2 types by tag, found ${#EC2[@]}: ${EC2[*]}"
ids=()
for line in "${EC2[@]}"; do
	read -r id name <<<"$line"
	ids+=("$id")
	FX_TYPE=${name#fx-}
	FX_TYPE=${FX_TYPE%-1}
	fx ec2 create-tags --resources "$id" --tags "Key=Name,Value=$(mut)" >/dev/null
done
FX_TYPE=ec2-tags
fx ec2 delete-tags --resources "${ids[@]}" --tags Key=Env >/dev/null
fx ec2 create-tags --resources "${ids[@]}" --tags Key=Owner,Value=elava >/dev/null

FX_TYPE=ec2_instance
I2=$(q ec2 describe-instances --filters Name=tag:Name,Values=fx-ec2_instance-2 \
	--query 'Reservations[0].Instances[0].InstanceId')
fx ec2 stop-instances --instance-ids "$I2" >/dev/null

FX_TYPE=ebs_volume
V2=$(q ec2 describe-volumes --filters Name=tag:Name,Values=fx-ebs_volume-2 --query 'Volumes[0].VolumeId')
fx ec2 delete-volume --volume-id "$V2" >/dev/null

FX_TYPE=security_group
SG2=$(q ec2 describe-security-groups --filters Name=group-name,Values=fx-security-group-2 \
	--query 'SecurityGroups[0].GroupId')
fx ec2 delete-security-group --group-id "$SG2" >/dev/null

# ------------------------------------------------------------ ELB and ASG
FX_TYPE=load_balancer
LB1=$(q elbv2 describe-load-balancers --names fx-load-balancer-1 --query 'LoadBalancers[0].LoadBalancerArn')
FX_TYPE=target_group
TG1=$(q elbv2 describe-target-groups --names fx-target-group-1 --query 'TargetGroups[0].TargetGroupArn')
for FX_TYPE in load_balancer target_group; do
	arn=$LB1
	[ $FX_TYPE = target_group ] && arn=$TG1
	fx elbv2 remove-tags --resource-arns "$arn" --tag-keys Env >/dev/null
	fx elbv2 add-tags --resource-arns "$arn" --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null
done

FX_TYPE=autoscaling_group
asg=ResourceId=fx-autoscaling-group-1,ResourceType=auto-scaling-group
fx autoscaling delete-tags --tags "$asg,Key=Env" >/dev/null
fx autoscaling create-or-update-tags --tags "$asg,Key=Name,Value=$(mut),PropagateAtLaunch=true" \
	"$asg,Key=Owner,Value=elava,PropagateAtLaunch=false" >/dev/null

# ------------------------------------------------------------------- RDS
for FX_TYPE in rds_instance rds_cluster rds_snapshot; do
	case $FX_TYPE in
	rds_instance) arn=$A:rds:$ACCT:db:fx-rds-instance-1 ;;
	rds_cluster) arn=$A:rds:$ACCT:cluster:fx-rds-cluster-1 ;;
	rds_snapshot) arn=$A:rds:$ACCT:snapshot:fx-rds-snapshot-1 ;;
	esac
	fx rds remove-tags-from-resource --resource-name "$arn" --tag-keys Env >/dev/null
	fx rds add-tags-to-resource --resource-name "$arn" --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null
done

# -------------------------------------------------------------------- S3
FX_TYPE=s3_bucket
fx s3api put-bucket-tagging --bucket fx-s3-bucket-1 \
	--tagging "TagSet=[{Key=Name,Value=$(mut)},{Key=Owner,Value=elava}]" >/dev/null
fx s3api delete-bucket --bucket fx-s3-bucket-3 >/dev/null

# --------------------------------------------------- tag-resource APIs
FX_TYPE=lambda_function
arn=$A:lambda:$ACCT:function:fx-lambda-function-1
fx lambda untag-resource --resource "$arn" --tag-keys Env >/dev/null
fx lambda tag-resource --resource "$arn" --tags "Name=$(mut),Owner=elava" >/dev/null

FX_TYPE=dynamodb_table
arn=$A:dynamodb:$ACCT:table/fx-dynamodb-table-1
fx dynamodb untag-resource --resource-arn "$arn" --tag-keys Env >/dev/null
fx dynamodb tag-resource --resource-arn "$arn" --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null

FX_TYPE=sqs_queue
url=$(q sqs get-queue-url --queue-name fx-sqs-queue-1 --query QueueUrl)
fx sqs untag-queue --queue-url "$url" --tag-keys Env >/dev/null
fx sqs tag-queue --queue-url "$url" --tags "Name=$(mut),Owner=elava" >/dev/null
url=$(q sqs get-queue-url --queue-name fx-sqs-queue-2.fifo --query QueueUrl)
fx sqs delete-queue --queue-url "$url" >/dev/null

FX_TYPE=sns_topic
arn=$A:sns:$ACCT:fx-sns-topic-1
fx sns untag-resource --resource-arn "$arn" --tag-keys Env >/dev/null
fx sns tag-resource --resource-arn "$arn" --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null

FX_TYPE=iam_role
fx iam untag-role --role-name fx-iam-role-1 --tag-keys Env >/dev/null
fx iam tag-role --role-name fx-iam-role-1 --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null

FX_TYPE=iam_user
fx iam untag-user --user-name fx-iam-user-1 --tag-keys Env >/dev/null
fx iam tag-user --user-name fx-iam-user-1 --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null
fx iam delete-user --user-name fx-iam-user-2 >/dev/null

FX_TYPE=kms_key
key=$(q kms describe-key --key-id alias/fx-kms-key-1 --query KeyMetadata.KeyId)
fx kms untag-resource --key-id "$key" --tag-keys Env >/dev/null
fx kms tag-resource --key-id "$key" --tags "TagKey=Name,TagValue=$(mut)" TagKey=Owner,TagValue=elava >/dev/null

FX_TYPE=route53_zone
zone=$(q route53 list-hosted-zones-by-name --dns-name fx-zone-1.example.com --max-items 1 \
	--query 'HostedZones[0].Id')
fx route53 change-tags-for-resource --resource-type hostedzone --resource-id "${zone##*/}" \
	--remove-tag-keys Env --add-tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null

FX_TYPE=log_group
fx logs untag-log-group --log-group-name /fx/fx-log-group-1 --tags Env >/dev/null
fx logs tag-log-group --log-group-name /fx/fx-log-group-1 --tags "Name=$(mut),Owner=elava" >/dev/null

FX_TYPE=ecr_repository
arn=$A:ecr:$ACCT:repository/fx-ecr-repository-1
fx ecr untag-resource --resource-arn "$arn" --tag-keys Env >/dev/null
fx ecr tag-resource --resource-arn "$arn" --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null

FX_TYPE=eks_cluster
arn=$A:eks:$ACCT:cluster/fx-eks-cluster-1
fx eks untag-resource --resource-arn "$arn" --tag-keys Env >/dev/null
fx eks tag-resource --resource-arn "$arn" --tags "Name=$(mut),Owner=elava" >/dev/null

FX_TYPE=ecs_cluster
arn=$A:ecs:$ACCT:cluster/fx-ecs-cluster-1
fx ecs untag-resource --resource-arn "$arn" --tag-keys Env >/dev/null
fx ecs tag-resource --resource-arn "$arn" --tags "key=Name,value=$(mut)" key=Owner,value=elava >/dev/null

FX_TYPE=elasticache_cluster
arn=$A:elasticache:$ACCT:cluster:fx-cache-1
fx elasticache remove-tags-from-resource --resource-name "$arn" --tag-keys Env >/dev/null
fx elasticache add-tags-to-resource --resource-name "$arn" --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null

FX_TYPE=secret
fx secretsmanager untag-resource --secret-id fx-secret-1 --tag-keys Env >/dev/null
fx secretsmanager tag-resource --secret-id fx-secret-1 --tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null

FX_TYPE=cloudformation_stack
fx cloudformation update-stack --stack-name fx-cloudformation-stack-1 --use-previous-template \
	--tags "Key=Name,Value=$(mut)" Key=Owner,Value=elava >/dev/null

# ------------------------------------------------------------------ dump
fx_dump_all
echo "fixtures_mutate: changed and dumped ${#FX_TYPES[@]} types into $FIXTURE_OUT" >&2
