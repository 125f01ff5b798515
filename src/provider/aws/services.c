/*
 * The AWS services Elava calls: signing name, endpoint variable, protocol
 * and API version, as the botocore service models give them.
 */
#include "list_int.h"

#define QUERY(var, name, env, ver)                                             \
	const struct aws_service var = {                                       \
	    name, env, AWS_PROTO_QUERY, ver, NULL, NULL, false}
#define JSON(var, name, env, target, jv)                                       \
	const struct aws_service var = {name,	env, AWS_PROTO_JSON, NULL,     \
					target, jv,  false}

const struct aws_service aws_svc_ec2 = {
    "ec2", "EC2", AWS_PROTO_EC2, "2016-11-15", NULL, NULL, false};
QUERY(aws_svc_elbv2, "elasticloadbalancing", "ELASTIC_LOAD_BALANCING_V2",
      "2015-12-01");
QUERY(aws_svc_autoscaling, "autoscaling", "AUTO_SCALING", "2011-01-01");
QUERY(aws_svc_rds, "rds", "RDS", "2014-10-31");
QUERY(aws_svc_sns, "sns", "SNS", "2010-03-31");
QUERY(aws_svc_elasticache, "elasticache", "ELASTICACHE", "2015-02-02");
QUERY(aws_svc_cloudformation, "cloudformation", "CLOUDFORMATION", "2010-05-15");
QUERY(aws_svc_sts, "sts", "STS", "2011-06-15");
const struct aws_service aws_svc_iam = {
    "iam", "IAM", AWS_PROTO_QUERY, "2010-05-08", NULL, NULL, true};
JSON(aws_svc_dynamodb, "dynamodb", "DYNAMODB", "DynamoDB_20120810", "1.0");
JSON(aws_svc_sqs, "sqs", "SQS", "AmazonSQS", "1.0");
JSON(aws_svc_kms, "kms", "KMS", "TrentService", "1.1");
JSON(aws_svc_logs, "logs", "CLOUDWATCH_LOGS", "Logs_20140328", "1.1");
JSON(aws_svc_ecr, "ecr", "ECR", "AmazonEC2ContainerRegistry_V20150921", "1.1");
JSON(aws_svc_ecs, "ecs", "ECS", "AmazonEC2ContainerServiceV20141113", "1.1");
JSON(aws_svc_secretsmanager, "secretsmanager", "SECRETS_MANAGER",
     "secretsmanager", "1.1");
const struct aws_service aws_svc_lambda = {
    "lambda", "LAMBDA", AWS_PROTO_REST_JSON, NULL, NULL, NULL, false};
const struct aws_service aws_svc_eks = {
    "eks", "EKS", AWS_PROTO_REST_JSON, NULL, NULL, NULL, false};
const struct aws_service aws_svc_s3 = {
    "s3", "S3", AWS_PROTO_REST_XML, NULL, NULL, NULL, false};
const struct aws_service aws_svc_route53 = {
    "route53", "ROUTE_53", AWS_PROTO_REST_XML, NULL, NULL, NULL, true};
