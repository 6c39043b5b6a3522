"""The production cache's serializer: django-redis's pickle, with damage read as a miss.

Bytes no cache write of ours makes (a truncated value, another program's) would otherwise fail
every request that reads them. Read as None, they are a miss for every reader: the table
answers and the entry is written again (issue 7's rule, applied where every cache read passes).
"""

from __future__ import annotations

import logging
import pickle
from typing import Any

from django_redis.serializers.pickle import PickleSerializer

logger = logging.getLogger("guards.cache")


class DamageTolerantPickleSerializer(PickleSerializer):
    def loads(self, value: bytes) -> Any:
        try:
            return pickle.loads(value)
        except Exception as exc:  # unpickling garbage can raise almost anything
            logger.warning("undecodable cache entry read as a miss: %s", type(exc).__name__)
            return None
