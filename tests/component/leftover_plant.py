"""Leave resources behind on purpose: what a crashed run of the platform would leave, made
directly through the APIs (moto answers in milliseconds, the provider's polling would take
minutes), named and tagged the way the stack names and tags them."""
from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any

import boto3

from harness import certs

TAGS = {"Environment": "dev", "Application": "fintxn", "CostCenter": "CC-1001"}
ASSUME_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


# Every kind plant() leaves, in the sweeper's words: the inventory must find each of them.
PLANTED_KINDS = frozenset({
    "ec2 vpc", "ec2 subnet", "ec2 internet gateway", "ec2 elastic ip", "ec2 nat gateway",
    "ec2 route table", "ec2 security group", "ec2 security group rules", "ec2 flow log",
    "iam role", "iam policy", "iam instance profile", "ec2 launch template",
    "autoscaling group", "ec2 instance", "elbv2 load balancer", "elbv2 target group",
    "rds subnet group", "rds cluster parameter group", "rds parameter group", "rds cluster",
    "rds instance", "rds cluster snapshot", "secret", "sns topic", "sqs queue", "ssm parameter", "log group",
    "cloudwatch alarm", "lambda function", "kms key", "kms alias", "wafv2 web acl",
    "cloudfront oac", "cloudfront distribution", "route53 record", "s3 bucket",
    "acm certificate",
    "ec2 network interface"})  # the NAT gateway's: moto shows it detached ("available")
# The hosted zone is not the run's (the stack writes records into a zone it is given).
ZONE = "platform.example.com."


@dataclass(frozen=True)
class Planted:
    vpc: str
    bucket: str
    tag_only_key: str
    zone_id: str


def client(endpoint: str, service: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def _tags(name: str, **extra: str) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in {**TAGS, "Name": name, **extra}.items()]


def plant(endpoint: str, s: str) -> Planted:
    """Leave what a crashed run of suffix ``s`` leaves (the inventory finds 45 resources of
    the 39 PLANTED_KINDS); return a few ids."""
    c = lambda svc: client(endpoint, svc)  # noqa: E731
    ec2, iam, rds, elb = c("ec2"), c("iam"), c("rds"), c("elbv2")

    # network: VPC, 2 subnets, IGW, NAT + EIP, route table, two SGs naming each other
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16", TagSpecifications=[
        {"ResourceType": "vpc", "Tags": _tags(f"vpc-dev-{s}")}])["Vpc"]["VpcId"]
    subnets = [ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{i}.0/24",
                                 AvailabilityZone=f"us-east-1{'ab'[i]}", TagSpecifications=[
                                     {"ResourceType": "subnet",
                                      "Tags": _tags(f"public-{i}-dev-{s}")}])["Subnet"]["SubnetId"]
               for i in range(2)]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]  # untagged
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    eip = ec2.allocate_address(Domain="vpc", TagSpecifications=[
        {"ResourceType": "elastic-ip", "Tags": _tags(f"nat-eip-0-dev-{s}")}])["AllocationId"]
    ec2.create_nat_gateway(SubnetId=subnets[0], AllocationId=eip, TagSpecifications=[
        {"ResourceType": "natgateway", "Tags": _tags(f"nat-0-dev-{s}")}])
    rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]  # untagged, in the VPC
    ec2.associate_route_table(RouteTableId=rt, SubnetId=subnets[1])
    ec2.create_route(RouteTableId=rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    alb_sg = ec2.create_security_group(GroupName=f"alb-sg-dev-{s}", Description="alb",
                                       VpcId=vpc)["GroupId"]
    app_sg = ec2.create_security_group(GroupName=f"app-sg-dev-{s}", Description="app",
                                       VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=app_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "UserIdGroupPairs": [{"GroupId": alb_sg}]}])
    ec2.authorize_security_group_egress(GroupId=alb_sg, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
        "UserIdGroupPairs": [{"GroupId": app_sg}]}])

    # compute: instance profile + role + policy, launch template, ASG (launches instances)
    iam.create_role(RoleName=f"app-role-dev-{s}", AssumeRolePolicyDocument=ASSUME_EC2)
    iam.put_role_policy(RoleName=f"app-role-dev-{s}", PolicyName="inline",
                        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{
                            "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    pol = iam.create_policy(PolicyName=f"app-policy-dev-{s}", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents",
                                                "Resource": "*"}]}))["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=f"app-role-dev-{s}", PolicyArn=pol)
    iam.create_instance_profile(InstanceProfileName=f"app-profile-dev-{s}")
    iam.add_role_to_instance_profile(InstanceProfileName=f"app-profile-dev-{s}",
                                     RoleName=f"app-role-dev-{s}")
    lt = ec2.create_launch_template(LaunchTemplateName=f"app-lt-dev-{s}", LaunchTemplateData={
        "ImageId": "ami-12c6146b", "InstanceType": "t3.large",
        "MetadataOptions": {"HttpTokens": "required"}})["LaunchTemplate"]["LaunchTemplateId"]
    c("autoscaling").create_auto_scaling_group(
        AutoScalingGroupName=f"app-asg-dev-{s}", MinSize=1, MaxSize=2, DesiredCapacity=1,
        LaunchTemplate={"LaunchTemplateId": lt, "Version": "$Latest"},
        VPCZoneIdentifier=",".join(subnets),
        Tags=[{"Key": "Name", "Value": f"app-dev-{s}", "PropagateAtLaunch": True}])

    # load balancing: ALB, target group, listener
    alb = elb.create_load_balancer(Name=f"alb-dev-{s}", Subnets=subnets, SecurityGroups=[alb_sg],
                                   Type="application")["LoadBalancers"][0]
    lb = alb["LoadBalancerArn"]
    tg = elb.create_target_group(Name=f"tg-dev-{s}", Protocol="HTTP", Port=8080, VpcId=vpc,
                                 TargetType="instance")["TargetGroups"][0]["TargetGroupArn"]
    elb.create_listener(LoadBalancerArn=lb, Protocol="HTTP", Port=80,
                        DefaultActions=[{"Type": "forward", "TargetGroupArn": tg}])

    # database: subnet group, parameter groups, Aurora cluster + 1 instance (named by cluster)
    rds.create_db_subnet_group(DBSubnetGroupName=f"aurora-subnets-dev-{s}",
                               DBSubnetGroupDescription="x", SubnetIds=subnets)
    rds.create_db_cluster_parameter_group(DBClusterParameterGroupName=f"aurora-cluster-pg-dev-{s}",
                                          DBParameterGroupFamily="aurora-mysql8.0", Description="x")
    rds.create_db_parameter_group(DBParameterGroupName=f"aurora-pg-dev-{s}",
                                  DBParameterGroupFamily="aurora-mysql8.0", Description="x")
    rds.create_db_cluster(DBClusterIdentifier=f"aurora-dev-{s}", Engine="aurora-mysql",
                          EngineVersion="8.0.mysql_aurora.3.08.2", MasterUsername="admin",
                          MasterUserPassword="not-a-real-pw-123", DeletionProtection=True,
                          DBSubnetGroupName=f"aurora-subnets-dev-{s}",
                          VpcSecurityGroupIds=[app_sg])
    rds.create_db_instance(DBInstanceIdentifier=f"member-one-{s}x", DBClusterIdentifier=f"aurora-dev-{s}",
                           Engine="aurora-mysql", DBInstanceClass="db.r6g.large")
    # A final snapshot holds the data after the cluster: a leftover (the automated one moto
    # takes at CreateDBCluster is AWS's and goes with the cluster: not a leftover).
    rds.create_db_cluster_snapshot(DBClusterSnapshotIdentifier=f"final-aurora-dev-{s}",
                                   DBClusterIdentifier=f"aurora-dev-{s}")

    # app services
    c("secretsmanager").create_secret(Name=f"db-master-dev-{s}", SecretString="x")
    c("sns").create_topic(Name=f"alerts-dev-{s}")
    c("sqs").create_queue(QueueName=f"dlq-dev-{s}")
    c("ssm").put_parameter(Name=f"/fintxn/dev/{s}/flag", Value="1", Type="String")
    c("logs").create_log_group(logGroupName=f"/fintxn/dev-{s}/app")
    ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ALL",
                         LogDestinationType="cloud-watch-logs",
                         LogGroupName=f"/fintxn/dev-{s}/flow",
                         DeliverLogsPermissionArn=f"arn:aws:iam::123456789012:role/app-role-dev-{s}")
    c("cloudwatch").put_metric_alarm(AlarmName=f"cpu-high-dev-{s}", MetricName="CPUUtilization",
                                     Namespace="AWS/EC2", Statistic="Average", Period=60,
                                     EvaluationPeriods=1, Threshold=80,
                                     ComparisonOperator="GreaterThanThreshold")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", "def handler(e, c):\n    return 1\n")
    role_arn = iam.create_role(RoleName=f"rotation-role-dev-{s}",
                               AssumeRolePolicyDocument=ASSUME_EC2)["Role"]["Arn"]
    c("lambda").create_function(FunctionName=f"rotation-dev-{s}", Runtime="python3.12",
                                Role=role_arn, Handler="index.handler", Code={"ZipFile": buf.getvalue()})

    # keys: one with an alias, one only tagged (KMS keys have no name)
    kms = c("kms")
    key = kms.create_key(Description=f"data key dev-{s}")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/data-dev-{s}", TargetKeyId=key)
    tag_only_key = kms.create_key(Description="logs key", Tags=[
        {"TagKey": "Name", "TagValue": f"logs-key-dev-{s}"}])["KeyMetadata"]["KeyId"]

    # edge: WAF ACL, CloudFront distribution (only its Comment names the run) + OAC
    c("wafv2").create_web_acl(Name=f"waf-dev-{s}", Scope="CLOUDFRONT", DefaultAction={"Allow": {}},
                              VisibilityConfig={"SampledRequestsEnabled": False,
                                                "CloudWatchMetricsEnabled": False,
                                                "MetricName": "waf"})
    cf = c("cloudfront")
    cf.create_origin_access_control(OriginAccessControlConfig={
        "Name": f"static-oac-dev-{s}", "SigningProtocol": "sigv4", "SigningBehavior": "always",
        "OriginAccessControlOriginType": "s3"})
    cf.create_distribution(DistributionConfig={
        "CallerReference": s, "Comment": f"cdn-dev-{s}", "Enabled": True,
        "Origins": {"Quantity": 1, "Items": [{"Id": "alb", "DomainName": "origin.example.com",
                                              "CustomOriginConfig": {
                                                  "HTTPPort": 80, "HTTPSPort": 443,
                                                  "OriginProtocolPolicy": "https-only"}}]},
        "DefaultCacheBehavior": {"TargetOriginId": "alb", "ViewerProtocolPolicy": "https-only",
                                 "CachePolicyId": "658327ea-f89d-4fab-a63d-7e88639e58f6"}})

    # storage: a versioned bucket with two versions and a delete marker
    s3 = c("s3")
    bucket = f"static-assets-dev-{s}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"1")
    s3.put_object(Bucket=bucket, Key="index.html", Body=b"2")
    s3.delete_object(Bucket=bucket, Key="index.html")

    # DNS in a zone that is not the run's: one record named by the run, one that only
    # points at the run's load balancer
    route53 = c("route53")
    zones = route53.list_hosted_zones_by_name(DNSName=ZONE)["HostedZones"]
    zone_id = (zones[0]["Id"] if zones and zones[0]["Name"] == ZONE else
               route53.create_hosted_zone(Name=ZONE, CallerReference=f"zone-{s}")["HostedZone"]["Id"])
    route53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={"Changes": [
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"www.dev-{s}.{ZONE}", "Type": "CNAME", "TTL": 300,
            "ResourceRecords": [{"Value": "d111111abcdef8.cloudfront.net"}]}},
        {"Action": "CREATE", "ResourceRecordSet": {
            "Name": f"origin-{hashlib.sha1(s.encode()).hexdigest()[:8]}.{ZONE}", "Type": "A", "AliasTarget": {
                "HostedZoneId": alb["CanonicalHostedZoneId"], "DNSName": alb["DNSName"],
                "EvaluateTargetHealth": False}}}]})

    # the harness's own imported ALB certificate
    certs.import_self_signed(c("acm"), s, TAGS)
    return Planted(vpc=vpc, bucket=bucket, tag_only_key=tag_only_key, zone_id=zone_id)
