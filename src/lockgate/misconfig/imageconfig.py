"""placeholder"""

from lockgate.misconfig.model import Rule

RULES: tuple[Rule, ...] = ()
