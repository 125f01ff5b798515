# shellcheck shell=bash disable=SC2034
# Sourced by fixtures.sh and fixtures_mutate.sh: how the fixtures talk to
# the AWS emulator (awscli) and how each type is dumped to
# $FIXTURE_OUT/<type>.json. See fixtures.md.
#
# Needs: MOTO_URL (a running moto server), FIXTURE_OUT (a directory,
# created when missing), python3 with awscli (the image's pyenv Python).
# FIXTURE_AWS=cli runs each command as a separate `aws` process (~0.5 s a
# call); by default one co-process (fixtures_awsrun.py) runs them all
# through awscli's entry point, ~0.08 s a call.

: "${MOTO_URL:?fixtures: set MOTO_URL to a running moto server}"
: "${FIXTURE_OUT:?fixtures: set FIXTURE_OUT to the output directory}"
MOTO_URL=${MOTO_URL%/}

FX_HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FX_REGION=us-east-1
FX_REGION2=eu-west-1
FX_ACCOUNT=123456789012
FX_TYPE=setup # the type being worked on, for failure messages

# The 37 types, in dump order.
FX_TYPES=(vpc subnet security_group internet_gateway route_table
	network_interface vpc_endpoint elastic_ip nat_gateway key_pair
	launch_template ec2_instance ebs_volume ebs_snapshot ami
	load_balancer target_group autoscaling_group
	rds_instance rds_cluster rds_snapshot
	s3_bucket lambda_function dynamodb_table sqs_queue sns_topic
	iam_role iam_user kms_key route53_zone log_group ecr_repository
	eks_cluster ecs_cluster elasticache_cluster secret cloudformation_stack)

export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_DEFAULT_REGION=$FX_REGION AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL 2>/dev/null || true

fx_die() {
	echo "fixtures: FAILED [$FX_TYPE]: $*" >&2
	exit 1
}

trap 'fx_on_err $? "$BASH_COMMAND" $LINENO' ERR
fx_on_err() {
	echo "fixtures: FAILED [$FX_TYPE]: exit $1 from '$2' (${BASH_SOURCE[1]##*/}:$3)" >&2
}

mkdir -p "$FIXTURE_OUT" || fx_die "cannot create FIXTURE_OUT=$FIXTURE_OUT"
FX_TMP=$(mktemp -d)
FX_PY=$(python3 -c 'import sys; print(sys.executable)') ||
	fx_die "python3 not found"

fx_cleanup() {
	if [ -n "${FX_RUN_PID:-}" ]; then
		exec 7>&- 8<&- 2>/dev/null || true
		kill "$FX_RUN_PID" 2>/dev/null || true
		wait "$FX_RUN_PID" 2>/dev/null || true
	fi
	rm -rf "$FX_TMP"
}
trap fx_cleanup EXIT

if [ "${FIXTURE_AWS:-}" != cli ]; then
	coproc FX_RUN { exec "$FX_PY" "$FX_HERE/fixtures_awsrun.py" "$FX_TMP/out" "$FX_TMP/err"; }
	# bash unsets FX_RUN_PID when the co-process ends: keep a copy
	# shellcheck disable=SC2269
	FX_RUN_PID=$FX_RUN_PID
	exec 7>&"${FX_RUN[1]}" 8<&"${FX_RUN[0]}"
fi

# Run one awscli command (arguments after `aws`) against the emulator in
# $FX_R (default us-east-1); its stdout goes to stdout. On failure: the
# type, the command and awscli's message, and exit 1.
fx() {
	local rc=0 region=${FX_R:-$FX_REGION}
	local argv=(--endpoint-url "$MOTO_URL" --region "$region" --output json "$@")
	if [ -n "${FX_RUN_PID:-}" ]; then
		printf '%s\0' "${argv[@]}" $'\x01' >&7
		read -r rc <&8 || fx_die "awscli runner died during: aws $*"
		[ "$rc" = 0 ] && { cat "$FX_TMP/out"; return 0; }
		fx_die "aws $* -> exit $rc: $(head -c 2000 "$FX_TMP/err")"
	else
		aws "${argv[@]}" 2>"$FX_TMP/err.$BASHPID" || rc=$?
		[ "$rc" = 0 ] && return 0
		fx_die "aws $* -> exit $rc: $(head -c 2000 "$FX_TMP/err.$BASHPID")"
	fi
}

# Like fx, but an error whose message contains $1 is not a failure: prints
# nothing and returns 1 (e.g. NoSuchTagSet for an untagged bucket).
fx_maybe() {
	local allow=$1 rc=0 region=${FX_R:-$FX_REGION}
	shift
	local argv=(--endpoint-url "$MOTO_URL" --region "$region" --output json "$@")
	if [ -n "${FX_RUN_PID:-}" ]; then
		printf '%s\0' "${argv[@]}" $'\x01' >&7
		read -r rc <&8 || fx_die "awscli runner died during: aws $*"
		[ "$rc" = 0 ] && { cat "$FX_TMP/out"; return 0; }
		grep -q -- "$allow" "$FX_TMP/err" && return 1
		fx_die "aws $* -> exit $rc: $(head -c 2000 "$FX_TMP/err")"
	else
		aws "${argv[@]}" 2>"$FX_TMP/err.$BASHPID" || rc=$?
		[ "$rc" = 0 ] && return 0
		grep -q -- "$allow" "$FX_TMP/err.$BASHPID" && return 1
		fx_die "aws $* -> exit $rc: $(head -c 2000 "$FX_TMP/err.$BASHPID")"
	fi
}

# EC2 --tag-specifications value: Name=fx-<type>-<n>, Env=test.
fx_ts() { # ec2-resource-type n
	echo "ResourceType=$1,Tags=[{Key=Name,Value=fx-$FX_TYPE-$2},{Key=Env,Value=test}]"
}
# Key=..,Value=.. list (elbv2, rds, dynamodb, sns, iam, ecr, ...).
fx_kv() { echo "Key=Name,Value=fx-$FX_TYPE-$1" "Key=Env,Value=test"; }

# Values at a simple path ("A[].B", "[]" flattens) in a JSON file, one a
# line.
fx_json() { # file path
	"$FX_PY" - "$1" "$2" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
cur = [doc]
for step in [s for s in sys.argv[2].split(".") if s]:
    flat = step.endswith("[]")
    key = step[:-2] if flat else step
    nxt = []
    for c in cur:
        v = c.get(key) if key and isinstance(c, dict) else (c if not key else None)
        if v is None:
            continue
        if flat:
            nxt.extend(v)
        else:
            nxt.append(v)
    cur = nxt
for v in cur:
    print(v if isinstance(v, str) else json.dumps(v))
EOF
}

# ------------------------------------------------------------------ dumps
#
# Each dump_<type> writes the raw awscli answers into $D (a fresh
# directory): list.json for the list call, and <what>.<n>.json for each
# per-record call, with the record's id in <what>.<n>.id. fixtures_norm.py
# then builds $FIXTURE_OUT/<type>.json from them.

fx_per() { # what n id awscli-args... : one per-record answer
	local what=$1 n=$2 id=$3
	shift 3
	printf '%s' "$id" >"$D/$what.$n.id"
	fx "$@" >"$D/$what.$n.json"
}

dump_ec2() { # awscli-op [args]
	fx ec2 "$@" >"$D/list.json"
}
dump_vpc() { dump_ec2 describe-vpcs; }
dump_subnet() { dump_ec2 describe-subnets; }
dump_security_group() { dump_ec2 describe-security-groups; }
dump_internet_gateway() { dump_ec2 describe-internet-gateways; }
dump_route_table() { dump_ec2 describe-route-tables; }
dump_network_interface() { dump_ec2 describe-network-interfaces; }
dump_vpc_endpoint() { dump_ec2 describe-vpc-endpoints; }
dump_elastic_ip() { dump_ec2 describe-addresses; }
dump_nat_gateway() { dump_ec2 describe-nat-gateways; }
dump_key_pair() { dump_ec2 describe-key-pairs; }
dump_launch_template() { dump_ec2 describe-launch-templates; }
dump_ec2_instance() { dump_ec2 describe-instances; }
dump_ebs_volume() { dump_ec2 describe-volumes; }
dump_ebs_snapshot() { dump_ec2 describe-snapshots --owner-ids self; }
dump_ami() { dump_ec2 describe-images --owners self; }

dump_elbv2_tags() { # list-key of ARNs
	local arns
	mapfile -t arns < <(fx_json "$D/list.json" "$1")
	[ ${#arns[@]} -gt 0 ] || return 0
	fx_per tags 0 - elbv2 describe-tags --resource-arns "${arns[@]}"
}
dump_load_balancer() {
	fx elbv2 describe-load-balancers >"$D/list.json"
	dump_elbv2_tags "LoadBalancers[].LoadBalancerArn"
}
dump_target_group() {
	fx elbv2 describe-target-groups >"$D/list.json"
	dump_elbv2_tags "TargetGroups[].TargetGroupArn"
}
dump_autoscaling_group() {
	fx autoscaling describe-auto-scaling-groups >"$D/list.json"
}
dump_rds_instance() { fx rds describe-db-instances >"$D/list.json"; }
dump_rds_cluster() { fx rds describe-db-clusters >"$D/list.json"; }
dump_rds_snapshot() { fx rds describe-db-snapshots >"$D/list.json"; }

dump_s3_bucket() {
	local n=0 b
	fx s3api list-buckets >"$D/list.json"
	for b in $(fx_json "$D/list.json" "Buckets[].Name"); do
		fx_per location $n "$b" s3api get-bucket-location --bucket "$b"
		printf '%s' "$b" >"$D/tagging.$n.id"
		fx_maybe NoSuchTagSet s3api get-bucket-tagging --bucket "$b" \
			>"$D/tagging.$n.json" || echo '{"TagSet": []}' >"$D/tagging.$n.json"
		n=$((n + 1))
	done
}
dump_lambda_function() {
	local n=0 arn
	fx lambda list-functions >"$D/list.json"
	for arn in $(fx_json "$D/list.json" "Functions[].FunctionArn"); do
		fx_per tags $n "$arn" lambda list-tags --resource "$arn"
		n=$((n + 1))
	done
}
dump_dynamodb_table() {
	local n=0 t arn
	fx dynamodb list-tables >"$D/list.json"
	for t in $(fx_json "$D/list.json" "TableNames[]"); do
		fx_per describe $n "$t" dynamodb describe-table --table-name "$t"
		arn=$(fx_json "$D/describe.$n.json" "Table.TableArn")
		fx_per tags $n "$t" dynamodb list-tags-of-resource --resource-arn "$arn"
		n=$((n + 1))
	done
}
dump_sqs_queue() {
	local n=0 u
	fx sqs list-queues >"$D/list.json"
	for u in $(fx_json "$D/list.json" "QueueUrls[]"); do
		fx_per attrs $n "$u" sqs get-queue-attributes --queue-url "$u" --attribute-names All
		fx_per tags $n "$u" sqs list-queue-tags --queue-url "$u"
		n=$((n + 1))
	done
}
dump_sns_topic() {
	local n=0 arn
	fx sns list-topics >"$D/list.json"
	for arn in $(fx_json "$D/list.json" "Topics[].TopicArn"); do
		fx_per attrs $n "$arn" sns get-topic-attributes --topic-arn "$arn"
		fx_per tags $n "$arn" sns list-tags-for-resource --resource-arn "$arn"
		n=$((n + 1))
	done
}
dump_iam_role() {
	local n=0 r
	fx iam list-roles >"$D/list.json"
	for r in $(fx_json "$D/list.json" "Roles[].RoleName"); do
		fx_per tags $n "$r" iam list-role-tags --role-name "$r"
		n=$((n + 1))
	done
}
dump_iam_user() {
	local n=0 u
	fx iam list-users >"$D/list.json"
	for u in $(fx_json "$D/list.json" "Users[].UserName"); do
		fx_per tags $n "$u" iam list-user-tags --user-name "$u"
		n=$((n + 1))
	done
}
dump_kms_key() {
	local n=0 k
	fx kms list-keys >"$D/list.json"
	for k in $(fx_json "$D/list.json" "Keys[].KeyId"); do
		fx_per describe $n "$k" kms describe-key --key-id "$k"
		fx_per tags $n "$k" kms list-resource-tags --key-id "$k"
		n=$((n + 1))
	done
}
dump_route53_zone() {
	local n=0 z
	fx route53 list-hosted-zones >"$D/list.json"
	for z in $(fx_json "$D/list.json" "HostedZones[].Id"); do
		fx_per tags $n "$z" route53 list-tags-for-resource \
			--resource-type hostedzone --resource-id "${z##*/}"
		n=$((n + 1))
	done
}
dump_log_group() {
	local n=0 g
	fx logs describe-log-groups >"$D/list.json"
	for g in $(fx_json "$D/list.json" "logGroups[].logGroupName"); do
		fx_per tags $n "$g" logs list-tags-log-group --log-group-name "$g"
		n=$((n + 1))
	done
}
dump_ecr_repository() {
	local n=0 arn
	fx ecr describe-repositories >"$D/list.json"
	for arn in $(fx_json "$D/list.json" "repositories[].repositoryArn"); do
		fx_per tags $n "$arn" ecr list-tags-for-resource --resource-arn "$arn"
		n=$((n + 1))
	done
}
dump_eks_cluster() {
	local n=0 c
	fx eks list-clusters >"$D/list.json"
	for c in $(fx_json "$D/list.json" "clusters[]"); do
		fx_per describe $n "$c" eks describe-cluster --name "$c"
		n=$((n + 1))
	done
}
dump_ecs_cluster() {
	local arns
	fx ecs list-clusters >"$D/list.json"
	mapfile -t arns < <(fx_json "$D/list.json" "clusterArns[]")
	[ ${#arns[@]} -gt 0 ] || return 0
	fx_per describe 0 - ecs describe-clusters --include TAGS --clusters "${arns[@]}"
}
dump_elasticache_cluster() {
	local n=0 arn
	fx elasticache describe-cache-clusters >"$D/list.json"
	for arn in $(fx_json "$D/list.json" "CacheClusters[].ARN"); do
		fx_per tags $n "$arn" elasticache list-tags-for-resource --resource-name "$arn"
		n=$((n + 1))
	done
}
dump_secret() { fx secretsmanager list-secrets >"$D/list.json"; }
dump_cloudformation_stack() { fx cloudformation describe-stacks >"$D/list.json"; }

# Dump every type (or the ones named) into $FIXTURE_OUT.
fx_dump_all() {
	local t dirs=()
	for t in "${@:-${FX_TYPES[@]}}"; do
		FX_TYPE=$t
		D=$FX_TMP/dump.$t
		rm -rf "$D"
		mkdir -p "$D"
		"dump_$t"
		dirs+=("$t=$D")
	done
	FX_TYPE=normalise
	"$FX_PY" "$FX_HERE/fixtures_norm.py" "$FIXTURE_OUT" "${dirs[@]}"
	FX_TYPE=finished
}
