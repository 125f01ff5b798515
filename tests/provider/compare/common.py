"""Helpers for the per-group comparisons of Elava's records with awscli."""
import datetime


def by_id(resources):
    return {r["id"]: r for r in resources}


def norm_time(v):
    """awscli times (ISO strings or epoch numbers) as Elava writes them:
    RFC 3339 UTC with milliseconds."""
    if v is None:
        return None
    if isinstance(v, (int, float)):
        if v >= 1e11:
            v = v / 1000
        t = datetime.datetime.fromtimestamp(v, datetime.timezone.utc)
    else:
        s = v.replace("Z", "+00:00")
        if len(s) > 5 and s[-5] in "+-" and s[-3] != ":":
            s = s[:-2] + ":" + s[-2:]
        t = datetime.datetime.fromisoformat(s).astimezone(datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


class Checker:
    """Collects mismatches between awscli items and Elava records."""

    def __init__(self, aws_items, resources, aws_id):
        self.errs = []
        self.aws = aws_items
        self.elava = by_id(resources)
        self.aws_id = aws_id
        ids = [self.id_of(a) for a in aws_items]
        missing = [i for i in ids if i not in self.elava]
        extra = [i for i in self.elava if i not in ids]
        if missing:
            self.errs.append(f"not listed by Elava: {missing}")
        if extra:
            self.errs.append(f"listed by Elava but not awscli: {extra}")

    def id_of(self, a):
        return self.aws_id(a) if callable(self.aws_id) else a[self.aws_id]

    def pairs(self):
        for a in self.aws:
            r = self.elava.get(self.id_of(a))
            if r is not None:
                yield a, r

    def eq(self, r, what, want, got):
        if want != got:
            self.errs.append(f"{r['id']}: {what}: awscli {want!r}, elava {got!r}")

    def attr(self, a, r, aws_key, attr, conv=None):
        """Attribute `attr` equals awscli's a[aws_key] (a path "A.B" walks)."""
        v = a
        for k in aws_key.split("."):
            v = v.get(k) if isinstance(v, dict) else None
        if conv and v is not None:
            v = conv(v)
        self.eq(r, "attributes." + attr, v, r["attributes"].get(attr))

    def common(self, a, r, name=None, status=None, created=None, tags=True):
        """name/status/created_at/tags against awscli's keys (None: skip)."""
        if tags:
            self.eq(r, "tags", a.get("Tags") or {}, r.get("tags") or {})
        if name:
            self.eq(r, "name", a.get(name), r.get("name"))
        if status:
            v = a
            for k in status.split("."):
                v = v.get(k) if isinstance(v, dict) else None
            self.eq(r, "status", v, r.get("status"))
        if created:
            self.eq(r, "created_at", norm_time(a.get(created)), r.get("created_at"))

    def rel(self, r, rel, target_suffix):
        """r has relationship rel whose target ends with :<target_suffix>."""
        for x in r.get("relationships", []):
            if x["type"] == rel and x["target"].endswith(":" + target_suffix):
                return
        self.errs.append(f"{r['id']}: no {rel} relationship to {target_suffix}")


# Shared by the per-group modules.

def want_name(a, own):
    """The Name tag when there is one, else the resource's own name."""
    tags = a.get("Tags") or {}
    return tags["Name"] if "Name" in tags else own


def get(a, path):
    """a["A"]["B"] for path "A.B"; None when a step is missing."""
    v = a
    for k in path.split("."):
        v = v.get(k) if isinstance(v, dict) else None
    return v


def rel_ids(r, rel, rtype):
    """Ids of r's relationships `rel` to resources of type rtype."""
    out = set()
    for x in r.get("relationships", []):
        parts = x["target"].split(":", 4)
        if x["type"] == rel and len(parts) == 5 and parts[3] == rtype:
            out.add(parts[4])
    return out


def rels(c, r, rel, rtype, want):
    c.eq(r, f"relationships {rel} -> {rtype}", set(x for x in want if x),
         rel_ids(r, rel, rtype))


def strs(c, r, attr, want):
    """A list attribute; Elava always writes it, empty when AWS has none."""
    c.eq(r, "attributes." + attr, list(want or []), r["attributes"].get(attr))


def kms_id(v):
    if not v:
        return None
    if ":key/" in v:
        return v.split(":key/", 1)[1]
    if v.startswith("arn:") or v.startswith("alias/"):
        return None
    return v


def key_rel(c, r, v):
    rels(c, r, "uses_key", "kms_key", [kms_id(v)] if v else [])
