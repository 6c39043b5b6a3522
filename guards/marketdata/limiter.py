"""TEMPORARY minimal limiter; replaced by the shared Redis/file limiter (issue 3)."""


class _Limiter:
    def acquire(self, source: str, weight: int = 1) -> None:
        return None


def get_limiter() -> _Limiter:
    return _Limiter()
