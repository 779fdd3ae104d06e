"""``@requires("tool")``: the reference tools are installed by scripts/test.sh, so a missing one fails the test.

(A skip would hide a broken test environment as a green run.)
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable
from typing import Any, TypeVar

F = TypeVar("F", bound=Callable[..., Any])


def requires(*tools: str) -> Callable[[F], F]:
    def deco(fn: F) -> F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            for tool in tools:
                assert shutil.which(tool), f"{tool} is missing; scripts/test.sh installs it"
            return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return deco
