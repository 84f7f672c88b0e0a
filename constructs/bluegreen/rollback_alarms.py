"""Rollback alarms that stay correct whichever target group is live.

Each deployment flips which of the blue/green target groups serves production, so every built-in
alarm watches BOTH groups through metric math (the worse of the two) instead of one alarm per colour.
This also keeps the count low: 4 built-in alarms + custom ones, at most 10 per deployment group.
"""
from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_elasticloadbalancingv2 as elbv2
from constructs import Construct

from bluegreen.compliance import Ack, acknowledge
from bluegreen.config.model import RollbackAlarmsSpec
from bluegreen.limits import MAX_ALARMS_PER_DEPLOYMENT_GROUP

_COMPARISONS = {
    "GreaterThanOrEqualToThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    "GreaterThanThreshold": cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
    "LessThanThreshold": cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    "LessThanOrEqualToThreshold": cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
}


class RollbackAlarms(Construct):
    """5xx rate, p99 latency and unhealthy hosts over both target groups, the load balancer's own 5xx rate,
    plus configured alarms.

    The load balancer's 5xx (`HTTPCode_ELB_5XX_Count`, published per load balancer only, not per target group)
    are what a user gets when stickiness sends them to a target group with no healthy targets; the target
    groups' own metrics never see those requests.

    Attribute `alarms`: every alarm CodeDeploy (and AppConfig) should watch.
    """

    def __init__(self, scope: Construct, id: str, *, name_prefix: str, spec: RollbackAlarmsSpec,
                 blue: elbv2.ApplicationTargetGroup, green: elbv2.ApplicationTargetGroup,
                 load_balancer_full_name: str) -> None:
        super().__init__(scope, id)
        if spec.count > MAX_ALARMS_PER_DEPLOYMENT_GROUP:  # built-in + custom + existing
            raise ValueError(f"{spec.count} alarms exceed CodeDeploy's {MAX_ALARMS_PER_DEPLOYMENT_GROUP}")
        period = Duration.seconds(spec.period_seconds)
        groups = {"b": blue, "g": green}

        def metric(tg: elbv2.ApplicationTargetGroup, metric_name: str, statistic: str) -> cloudwatch.Metric:
            # Built by hand: the green group is not attached to a listener until CodeDeploy shifts traffic.
            return cloudwatch.Metric(namespace="AWS/ApplicationELB", metric_name=metric_name, statistic=statistic,
                                     period=period, dimensions_map={"TargetGroup": tg.target_group_full_name,
                                                                    "LoadBalancer": load_balancer_full_name})

        errors = {k: metric(tg, "HTTPCode_Target_5XX_Count", "Sum") for k, tg in groups.items()}
        requests = {k: metric(tg, "RequestCount", "Sum") for k, tg in groups.items()}
        error_rate = cloudwatch.MathExpression(
            expression="MAX([IF(bReq > 0, 100 * FILL(b5xx, 0) / bReq, 0), IF(gReq > 0, 100 * FILL(g5xx, 0) / gReq, 0)])",
            using_metrics={"b5xx": errors["b"], "g5xx": errors["g"], "bReq": requests["b"], "gReq": requests["g"]},
            period=period, label="worst target-group 5xx rate (%)")
        latency = cloudwatch.MathExpression(
            expression="MAX([bP99, gP99])",
            using_metrics={f"{k}P99": metric(tg, "TargetResponseTime", "p99") for k, tg in groups.items()},
            period=period, label="worst target-group p99 response time (s)")
        unhealthy = cloudwatch.MathExpression(
            expression="MAX([bUnhealthy, gUnhealthy])",
            using_metrics={f"{k}Unhealthy": metric(tg, "UnHealthyHostCount", "Maximum") for k, tg in groups.items()},
            period=period, label="unhealthy hosts in either target group")

        def alarm(construct_id: str, suffix: str, metric: cloudwatch.IMetric, threshold: float,
                  description: str) -> cloudwatch.Alarm:
            return cloudwatch.Alarm(
                self, construct_id, alarm_name=f"{name_prefix}-{suffix}", metric=metric, threshold=threshold,
                evaluation_periods=spec.evaluation_periods, datapoints_to_alarm=spec.evaluation_periods,
                comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING, alarm_description=description)

        self.error_rate = alarm("ErrorRate", "5xx-rate", error_rate, spec.error_rate_percent,
                                f"5xx rate >= {spec.error_rate_percent}% on blue or green; rolls the deployment back")
        self.latency = alarm("P99Latency", "p99-latency", latency, spec.p99_latency_ms / 1000,
                             f"p99 >= {spec.p99_latency_ms} ms on blue or green; rolls the deployment back")
        self.unhealthy_hosts = alarm("UnhealthyHosts", "unhealthy-hosts", unhealthy, spec.unhealthy_hosts,
                                     f">= {spec.unhealthy_hosts} unhealthy targets; rolls the deployment back")
        lb_metric = {name: cloudwatch.Metric(namespace="AWS/ApplicationELB", metric_name=name, statistic="Sum",
                                             period=period, dimensions_map={"LoadBalancer": load_balancer_full_name})
                     for name in ("HTTPCode_ELB_5XX_Count", "RequestCount")}
        elb_error_rate = cloudwatch.MathExpression(
            expression="IF(lbReq > 0, 100 * FILL(lb5xx, 0) / lbReq, 0)",
            using_metrics={"lb5xx": lb_metric["HTTPCode_ELB_5XX_Count"], "lbReq": lb_metric["RequestCount"]},
            period=period, label="load balancer 5xx rate (%)")
        self.load_balancer_errors = alarm(
            "LoadBalancerErrorRate", "elb-5xx-rate", elb_error_rate, spec.error_rate_percent,
            f"load-balancer 5xx rate >= {spec.error_rate_percent}% (e.g. users stuck on a target group without "
            "targets); rolls the deployment back")
        self.alarms: list[cloudwatch.IAlarm] = [self.error_rate, self.latency, self.unhealthy_hosts,
                                                self.load_balancer_errors]
        acknowledge(self, Ack(
            "HIPAA.Security-CloudWatchAlarmAction",
            "CodeDeploy (and AppConfig) read these alarms' state to roll back; people learn of it from the "
            "deployment timeline in Slack. An SNS action would only duplicate that notification."))
        for custom in spec.custom:
            self.alarms.append(cloudwatch.Alarm(
                self, f"Custom-{custom.name}", alarm_name=f"{name_prefix}-{custom.name}",
                metric=cloudwatch.Metric(namespace=custom.namespace, metric_name=custom.metric_name,
                                         dimensions_map=dict(custom.dimensions), statistic=custom.statistic,
                                         period=Duration.seconds(custom.period_seconds)),
                threshold=custom.threshold, evaluation_periods=custom.evaluation_periods,
                datapoints_to_alarm=custom.evaluation_periods, comparison_operator=_COMPARISONS[custom.comparison],
                treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
                alarm_description=f"custom business alarm {custom.name}; rolls the deployment back"))
        for name in spec.existing_alarm_names:
            self.alarms.append(cloudwatch.Alarm.from_alarm_name(self, f"Existing-{name}", name))
        if len(self.alarms) != spec.count:  # the limit check above counts what this construct creates
            raise AssertionError(f"{len(self.alarms)} alarms built but the spec counts {spec.count}")
