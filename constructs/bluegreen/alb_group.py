"""An ALB group: internal load balancer(s) sharing scheme, protocol and idle timeout."""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from dataclasses import dataclass

from bluegreen.compliance import Ack, acknowledge
from bluegreen.config.model import AlbGroupSpec


@dataclass(frozen=True)
class AlbShard:
    """One load balancer of the group and its security group."""

    group: AlbGroupSpec
    shard: int
    load_balancer: elbv2.ApplicationLoadBalancer
    security_group: ec2.SecurityGroup


class AlbGroup(Construct):
    """`shards` load balancers for one group; listeners are added by each DomainService.

    Security groups start closed: each domain opens only its own ports to the VPC / client ranges.
    Attribute `shards`: one `AlbShard` per load balancer.
    """

    def __init__(self, scope: Construct, id: str, *, platform_name: str, spec: AlbGroupSpec, vpc: ec2.IVpc,
                 access_log_bucket: s3.IBucket, shards: int = 1, deletion_protection: bool = True) -> None:
        super().__init__(scope, id)
        self.shards: list[AlbShard] = []
        for shard in range(shards):
            suffix = "" if shard == 0 else f"-{shard}"
            security_group = ec2.SecurityGroup(
                self, f"SecurityGroup{suffix}", vpc=vpc, allow_all_outbound=False,
                description=f"{platform_name} ALB group {spec.name}{suffix}: listeners opened per domain")
            # Egress to the service tasks in the VPC (health checks and forwarded traffic).
            security_group.add_egress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.all_tcp(),
                                           "to domain service tasks")
            alb = elbv2.ApplicationLoadBalancer(
                self, f"LoadBalancer{suffix}", vpc=vpc, internet_facing=not spec.internal,
                load_balancer_name=f"{platform_name}-{spec.name}{suffix}", security_group=security_group,
                vpc_subnets=ec2.SubnetSelection(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS if spec.internal else ec2.SubnetType.PUBLIC),
                idle_timeout=Duration.seconds(spec.idle_timeout_seconds), drop_invalid_header_fields=True,
                deletion_protection=deletion_protection,
            )
            alb.log_access_logs(access_log_bucket, prefix=f"{spec.name}{suffix}")
            if not spec.internal:
                acknowledge(alb, Ack("AwsSolutions-EC23",
                                     "Internet-facing group chosen in config; listeners still open only their own ports."))
            self.shards.append(AlbShard(group=spec, shard=shard, load_balancer=alb, security_group=security_group))
