"""JSON bodies of Qdrant's REST API <-> qdrant_edge objects.

Only the shapes a client of a single-vector collection sends are translated; anything else raises
Unsupported, which the server answers with HTTP 501 so a gap in this front never looks like a
Qdrant answer.
"""
import uuid

import qdrant_edge as qe


class BadRequest(Exception):
    """The body is malformed (Qdrant answers 400)."""


class Unsupported(Exception):
    """Valid for Qdrant, but not translated by this front (answered 501)."""


DISTANCES = {"Cosine": qe.Distance.Cosine, "Euclid": qe.Distance.Euclid, "Dot": qe.Distance.Dot,
             "Manhattan": qe.Distance.Manhattan}

SCHEMAS = {"keyword": qe.PayloadSchemaType.Keyword, "integer": qe.PayloadSchemaType.Integer,
           "float": qe.PayloadSchemaType.Float, "geo": qe.PayloadSchemaType.Geo,
           "text": qe.PayloadSchemaType.Text, "bool": qe.PayloadSchemaType.Bool,
           "datetime": qe.PayloadSchemaType.Datetime, "uuid": qe.PayloadSchemaType.Uuid}
SCHEMA_NAMES = {str(v): k for k, v in SCHEMAS.items()}


def point_id(raw):
    """Qdrant point ids are unsigned integers or UUIDs (any other string is rejected)."""
    if isinstance(raw, bool):
        raise BadRequest(f"Unable to parse point id {raw!r}")
    if isinstance(raw, int):
        if raw < 0:
            raise BadRequest(f"Unable to parse point id {raw}: must be unsigned")
        return raw
    if isinstance(raw, str):
        try:
            return uuid.UUID(raw)
        except ValueError:
            raise BadRequest(f"Unable to parse UUID: {raw}") from None
    raise BadRequest(f"Unable to parse point id {raw!r}")


def id_json(pid):
    return pid if isinstance(pid, int) else str(pid)


def _as_list(x):
    if x is None:
        return None
    return x if isinstance(x, list) else [x]


def _match(m):
    if not isinstance(m, dict):
        raise BadRequest(f"match must be an object, got {m!r}")
    if "value" in m:
        return qe.MatchValue(m["value"])
    if "any" in m:
        return qe.MatchAny(m["any"])
    if "except" in m:
        return qe.MatchExcept(m["except"])
    if "text" in m:
        return qe.MatchText(m["text"])
    if "text_any" in m:
        return qe.MatchTextAny(m["text_any"])
    if "phrase" in m:
        return qe.MatchPhrase(m["phrase"])
    raise Unsupported(f"match {m!r}")


def _range(r):
    bounds = {k: r.get(k) for k in ("gt", "gte", "lt", "lte")}
    if any(isinstance(v, str) for v in bounds.values()):
        return qe.RangeDateTime(**bounds)
    return qe.RangeFloat(**bounds)


def condition(c):
    if not isinstance(c, dict):
        raise BadRequest(f"a filter condition must be an object, got {c!r}")
    if any(k in c for k in ("must", "should", "must_not", "min_should")):
        return filter_(c)
    if "has_id" in c:
        return qe.HasIdCondition({point_id(i) for i in c["has_id"]})
    if "is_empty" in c:
        return qe.IsEmptyCondition(c["is_empty"]["key"])
    if "is_null" in c:
        return qe.IsNullCondition(c["is_null"]["key"])
    if "has_vector" in c:
        return qe.HasVectorCondition(c["has_vector"])
    if "nested" in c:
        return qe.NestedCondition(c["nested"]["key"], filter_(c["nested"]["filter"]))
    if "key" in c:
        kw = {}
        if c.get("match") is not None:
            kw["match"] = _match(c["match"])
        if c.get("range") is not None:
            kw["range"] = _range(c["range"])
        if c.get("values_count") is not None:
            kw["values_count"] = qe.ValuesCount(**c["values_count"])
        for k in ("is_empty", "is_null"):
            if c.get(k) is not None:
                kw[k] = c[k]
        if not kw:
            raise Unsupported(f"field condition {c!r}")
        return qe.FieldCondition(key=c["key"], **kw)
    raise Unsupported(f"condition {c!r}")


def filter_(f):
    """A Qdrant filter object (or None) -> qe.Filter (or None)."""
    if f is None:
        return None
    if not isinstance(f, dict):
        raise BadRequest(f"filter must be an object, got {f!r}")
    kw = {}
    for k in ("must", "should", "must_not"):
        items = _as_list(f.get(k))
        if items is not None:
            kw[k] = [condition(c) for c in items]
    if f.get("min_should") is not None:
        ms = f["min_should"]
        kw["min_should"] = qe.MinShould([condition(c) for c in ms["conditions"]], ms["min_count"])
    return qe.Filter(**kw)


def with_payload(w, default):
    if w is None:
        return default
    if isinstance(w, bool):
        return w
    if isinstance(w, list):
        return qe.PayloadSelector.Include(w)
    if isinstance(w, dict) and "include" in w:
        return qe.PayloadSelector.Include(_as_list(w["include"]))
    if isinstance(w, dict) and "exclude" in w:
        return qe.PayloadSelector.Exclude(_as_list(w["exclude"]))
    raise BadRequest(f"with_payload {w!r}")


def with_vector(w):
    if w is None:
        return False
    if isinstance(w, (bool, list)):
        return w
    raise BadRequest(f"with_vector {w!r}")


def dense_vector(v, what):
    if isinstance(v, dict) and set(v) == {""}:
        v = v[""]
    if not isinstance(v, list) or not all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v):
        raise Unsupported(f"{what}: only one unnamed dense vector per point is translated")
    return [float(x) for x in v]


def points_for_upsert(body):
    """PointsList {points: [...]} or PointsBatch {batch: {ids, vectors, payloads}}."""
    if "points" in body:
        raw = body["points"]
        return [qe.Point(point_id(p["id"]), dense_vector(p["vector"], "upsert"), p.get("payload"))
                for p in raw]
    if "batch" in body:
        b = body["batch"]
        payloads = b.get("payloads") or [None] * len(b["ids"])
        return [qe.Point(point_id(i), dense_vector(v, "upsert"), p)
                for i, v, p in zip(b["ids"], b["vectors"], payloads)]
    raise BadRequest("missing field `points` (or `batch`)")


def nearest(q):
    """The `query` of a Query API request: a dense vector or {nearest: vector}."""
    if isinstance(q, dict) and "nearest" in q:
        q = q["nearest"]
    return qe.Query.Nearest(dense_vector(q, "query"))


def _payload_json(p):
    return None if p is None else p


def _vector_json(v):
    if isinstance(v, dict) and set(v) == {""}:
        return v[""]
    return v


def record_json(r, with_vec):
    out = {"id": id_json(r.id)}
    if r.payload is not None:
        out["payload"] = _payload_json(r.payload)
    if with_vec and r.vector is not None:
        out["vector"] = _vector_json(r.vector)
    return out


def scored_json(p, with_vec):
    out = {"id": id_json(p.id), "version": p.version, "score": p.score}
    if p.payload is not None:
        out["payload"] = _payload_json(p.payload)
    if with_vec and p.vector is not None:
        out["vector"] = _vector_json(p.vector)
    return out
