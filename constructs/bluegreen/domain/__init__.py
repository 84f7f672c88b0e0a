"""The parts of a domain's release path, composed by `bluegreen.domain_service.DomainService`:

registry (ECR) -> task definition -> traffic (target groups, listeners, DNS) -> runtime (Fargate service)
-> release (CodeDeploy group, config-change trigger, listener stickiness) -> metadata (what pipelines read).
"""
