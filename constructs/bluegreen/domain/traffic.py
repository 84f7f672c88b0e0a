"""Where a domain's traffic enters: blue/green target groups, production and test listeners, DNS.

Every listener has the same CloudFormation shape whatever the traffic style or stickiness: one forward action
to the blue target group (plus, for HTTPS, the default certificate and a pinned TLS policy). Nothing a config
may change later lives on the listener resource, because CloudFormation re-applies `DefaultActions` on any
listener update and would send production back to blue whichever colour CodeDeploy made live (DESIGN.md
section 3). Stickiness is set on the live action by `bluegreen.listener_stickiness`; extra certificates are
separate `ListenerCertificate` resources. Target groups change only in place (health check, attributes).
"""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from aws_cdk import aws_route53 as route53
from aws_cdk import aws_route53_targets as targets
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge
from bluegreen.config.model import DomainSpec, ListenerProtocol
from bluegreen.handles import LoadBalancerHandle

# Pinned, not CDK's default: a listener property must never change after create. This is the policy the
# recommended flag @aws-cdk/aws-elasticloadbalancingv2:usePostQuantumTlsPolicy selects.
TLS_POLICY = elbv2.SslPolicy.TLS13_12_PQ
VPC_SOURCE_REASON = ("The source is the platform VPC's own CIDR (validated as a private /16../24 in the platform "
                     "config and published to SSM), never 0.0.0.0/0, and the port is the domain's listener port; "
                     "cdk-nag cannot evaluate a value resolved at deploy time.")
HEALTH_CHECK = dict(interval=Duration.seconds(10), timeout=Duration.seconds(5), healthy_threshold_count=2,
                    unhealthy_threshold_count=3, healthy_http_codes="200-299")


class DomainTraffic(Construct):
    """Attributes: `blue_target_group`, `green_target_group`, `prod_listener`, `test_listener`, `record`,
    `endpoint`, `test_endpoint`, `scheme`."""

    def __init__(self, scope: Construct, id: str, *, platform_name: str, spec: DomainSpec,
                 load_balancer: LoadBalancerHandle, vpc: ec2.IVpc, vpc_cidr: str, client_cidrs: tuple[str, ...],
                 test_client_cidrs: tuple[str, ...], hooks_security_group_id: str, zone: route53.IHostedZone,
                 zone_name: str, certificate_arn: str | None = None) -> None:
        super().__init__(scope, id)
        name = f"{platform_name}-{spec.name}"
        group = load_balancer.group
        tls = group.protocol is ListenerProtocol.HTTPS
        self.scheme = "https" if tls else "http"

        def target_group(colour: str) -> elbv2.ApplicationTargetGroup:
            return elbv2.ApplicationTargetGroup(
                self, f"{colour.title()}TargetGroup", target_group_name=f"{name}-{colour}", vpc=vpc,
                port=spec.container_port, protocol=elbv2.ApplicationProtocol.HTTP, target_type=elbv2.TargetType.IP,
                deregistration_delay=Duration.seconds(spec.drain.deregistration_delay_seconds),
                health_check=elbv2.HealthCheck(path=spec.health_check_path, **HEALTH_CHECK))

        # Blue serves first; CodeDeploy alternates.
        self.blue_target_group = target_group("blue")
        self.green_target_group = target_group("green")

        protocol = elbv2.ApplicationProtocol.HTTPS if tls else elbv2.ApplicationProtocol.HTTP

        def listener(construct_id: str, port: int) -> elbv2.ApplicationListener:
            created = elbv2.ApplicationListener(
                self, construct_id, load_balancer=load_balancer.load_balancer, port=port, protocol=protocol,
                certificates=[elbv2.ListenerCertificate.from_arn(certificate_arn or group.certificate_arn)]
                if tls else None,
                ssl_policy=TLS_POLICY if tls else None, open=False,
                default_action=elbv2.ListenerAction.forward([self.blue_target_group]))
            if group.additional_certificate_arns:
                created.add_certificates("AdditionalCertificates", [
                    elbv2.ListenerCertificate.from_arn(arn) for arn in group.additional_certificate_arns])
            return created

        self.prod_listener = listener("ProdListener", spec.port)
        self.test_listener = listener("TestListener", spec.test_port)

        # Who reaches which port; the rules live in this stack, so adding a domain never needs a platform deploy.
        # The test listener serves unapproved green: only the platform's smoke-check hook and test client ranges.
        # Rule ids come from what they open (never a list position), so adding or removing a range never moves
        # another rule to a new logical id (CloudFormation would create the duplicate before deleting the old one).
        security_group_id = load_balancer.security_group.security_group_id
        vpc_rule = ec2.CfnSecurityGroupIngress(
            self, "ProdIngressVpc", group_id=security_group_id, ip_protocol="tcp", from_port=spec.port,
            to_port=spec.port, cidr_ip=vpc_cidr, description=f"{spec.name} production listener from the VPC")
        # The VPC range is read from SSM at deploy time, which cdk-nag cannot evaluate.
        acknowledge(vpc_rule, *[Ack(rule_id, VPC_SOURCE_REASON) for rule_id in (
            "AwsSolutions-EC23", "HIPAA.Security-EC2RestrictedCommonPorts", "HIPAA.Security-EC2RestrictedSSH")])
        for cidr in client_cidrs:
            ec2.CfnSecurityGroupIngress(
                self, f"ProdIngress-{_cidr_id(cidr)}", group_id=security_group_id, ip_protocol="tcp",
                from_port=spec.port, to_port=spec.port, cidr_ip=cidr,
                description=f"{spec.name} production listener from {cidr}")
        ec2.CfnSecurityGroupIngress(
            self, "TestIngressHooks", group_id=security_group_id, ip_protocol="tcp", from_port=spec.test_port,
            to_port=spec.test_port, source_security_group_id=hooks_security_group_id,
            description=f"{spec.name} test listener from the platform's smoke-check hook")
        for cidr in test_client_cidrs:
            ec2.CfnSecurityGroupIngress(
                self, f"TestIngress-{_cidr_id(cidr)}", group_id=security_group_id, ip_protocol="tcp",
                from_port=spec.test_port, to_port=spec.test_port, cidr_ip=cidr,
                description=f"{spec.name} test listener from test clients {cidr}")

        self.record = route53.ARecord(
            self, "Record", zone=zone, record_name=spec.name,
            target=route53.RecordTarget.from_alias(targets.LoadBalancerTarget(load_balancer.load_balancer)),
            comment=f"{name} endpoint")
        host = f"{spec.name}.{zone_name}"
        self.endpoint = f"{self.scheme}://{host}:{spec.port}"
        self.test_endpoint = f"{self.scheme}://{host}:{spec.test_port}"


def _cidr_id(cidr: str) -> str:
    return cidr.replace(".", "-").replace("/", "-")
