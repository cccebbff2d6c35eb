"""Exceptions out of exception groups: the async machinery around the SDK wraps what went wrong."""

from __future__ import annotations


def leaves(error: BaseException) -> list[BaseException]:
    """Every exception inside (nested) exception groups, in order; ``[error]`` for a plain one."""
    if isinstance(error, BaseExceptionGroup):
        return [leaf for inner in error.exceptions for leaf in leaves(inner)]
    return [error]


def innermost(error: BaseException) -> BaseException:
    """The first exception inside (nested) exception groups: usually the one to show."""
    return leaves(error)[0]
