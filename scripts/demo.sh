#!/usr/bin/env bash
# The README's first command: Elava on a small AWS account, for real, with
# nothing but this repository. Installs what is needed (Debian packages, the
# AWS API emulator moto, awscli), builds, starts the emulator on loopback,
# creates an account with awscli (instances, volumes, buckets, a database,
# security groups, a queue), scans it, changes it (stops an instance,
# retags a volume, deletes a bucket, adds a queue), scans again, and asks
# Elava what changed, the history of the stopped instance, and what the
# account looked like at the first revision.
#
#   bash scripts/demo.sh [STORE_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/deps.sh
. tests/provider/moto.sh
moto_install || { echo "demo: cannot install the AWS emulator (moto)" >&2; exit 1; }
awscli_install || { echo "demo: cannot install awscli" >&2; exit 1; }
[ -d build ] || meson setup build >/dev/null
ninja -C build >/dev/null

store=${1:-$(mktemp -d /tmp/elava-demo-XXXXXX)/store}
moto_start || { echo "demo: the AWS emulator did not start" >&2; exit 1; }
trap moto_stop EXIT

# Everything below talks to the emulator, never to AWS.
export AWS_ENDPOINT_URL=$MOTO_URL AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
unset AWS_PROFILE AWS_SESSION_TOKEN
aws() { command aws --endpoint-url "$MOTO_URL" --output text "$@"; }
elava() {
	printf '\n$ elava %s\n' "$*"
	"$root/build/elava" "$@" --store "$store" || true
}

echo "== A small account (AWS API emulator at $MOTO_URL)"
tags() { echo "ResourceType=$1,Tags=[{Key=Name,Value=$2},{Key=Env,Value=$3}]"; }
sg=$(aws ec2 create-security-group --group-name web --description "web tier" --query GroupId)
aws ec2 authorize-security-group-ingress --group-id "$sg" --protocol tcp --port 443 \
	--cidr 0.0.0.0/0 >/dev/null
for n in web-1 web-2; do
	aws ec2 run-instances --image-id ami-12c6146b --instance-type t3.small \
		--security-group-ids "$sg" --tag-specifications "$(tags instance $n prod)" \
		--query 'Instances[0].InstanceId' >/dev/null
done
aws ec2 run-instances --image-id ami-12c6146b --instance-type m5.large \
	--tag-specifications "$(tags instance batch-1 staging)" >/dev/null
vol=$(aws ec2 create-volume --size 100 --volume-type gp3 --availability-zone us-east-1a \
	--tag-specifications "$(tags volume data-1 staging)" --query VolumeId)
aws ec2 create-volume --size 20 --availability-zone us-east-1b \
	--tag-specifications "$(tags volume scratch staging)" >/dev/null
aws s3api create-bucket --bucket acme-logs >/dev/null
aws s3api create-bucket --bucket acme-tmp-exports >/dev/null
aws rds create-db-instance --db-instance-identifier orders-db --engine postgres \
	--db-instance-class db.t3.micro --allocated-storage 20 \
	--master-username app --master-user-password demo-only-password >/dev/null
aws sqs create-queue --queue-name orders >/dev/null
web2=$(aws ec2 describe-instances --filters Name=tag:Name,Values=web-2 \
	--query 'Reservations[0].Instances[0].InstanceId')
echo "3 instances, 2 volumes, 2 buckets, a PostgreSQL database, a security group, a queue"

# The emulator ignores DescribeSnapshots' owner filter and would list its
# catalogue of about 1,180 public snapshots; AWS honours it.
scan() { elava scan --region us-east-1 --exclude-types ebs_snapshot; }

echo
echo "== First scan: the baseline"
scan

echo
echo "== The account changes: web-2 stopped, data-1 retagged, a bucket deleted, a queue added"
aws ec2 stop-instances --instance-ids "$web2" >/dev/null
aws ec2 create-tags --resources "$vol" --tags Key=Env,Value=prod >/dev/null
aws s3api delete-bucket --bucket acme-tmp-exports >/dev/null
aws sqs create-queue --queue-name orders-events >/dev/null

echo
echo "== Second scan"
scan

echo
echo "== What changed, what web-2 went through, and the account as it was"
elava changes
elava history "$web2"
elava resources --at 1 --region us-east-1
elava scans
elava wal verify
echo
echo "The store is in $store: try 'build/elava resources --store $store --output json'."
