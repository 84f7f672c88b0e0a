"""The app's domain stacks are the library's `DomainServiceStack` (one class for this app and domain teams')."""
from bluegreen.domain_stack import DomainServiceStack, domain_stack_name

__all__ = ["DomainServiceStack", "domain_stack_name"]
