"""A LightGBM text model checked before LightGBM's own parser sees it.

    booster = lgb.Booster(model_str=checked_model_text(text))

LightGBM's native parser trusts its input: a split on feature 900000000 or a child index out of range
reads outside its arrays (a crash), tree sizes that disagree with the text abort the process, and a node
that is its own child loops for ever. A head folder is data from whoever wrote the store, so every tree
is checked here first — feature and child indices in range, array lengths that agree with the number of
leaves, every node reached exactly once from the root (no cycle, nothing shared) — and the ``tree_sizes``
line, which only lets LightGBM parse trees in parallel, is dropped so it cannot disagree. Anything else is
one ``MilesError`` that says to train the head again.
"""

from __future__ import annotations

import re

from miles.errors import MilesError

MAX_FEATURES = 1_000_000
MAX_LEAVES = 1 << 17
_TREE = re.compile(r"^Tree=(\d+)$", re.M)


class TamperedModel(MilesError):
    """A saved LightGBM model that LightGBM could not load safely."""


def _fail(why: str) -> TamperedModel:
    return TamperedModel(f"a saved LightGBM model is damaged or was changed by hand ({why}): run `miles train` "
                         "again")


def _fields(block: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in block.splitlines() if "=" in line)


def _ints(fields: dict[str, str], key: str, n: int) -> list[int]:
    text = fields.get(key, "")
    try:
        values = [int(v) for v in text.split()]
    except ValueError:
        raise _fail(f"{key} holds a value that is not a whole number") from None
    if len(values) != n:
        raise _fail(f"{key} has {len(values)} values where the tree has {n}")
    return values


def _floats(fields: dict[str, str], key: str, n: int, required: bool = True) -> None:
    if key not in fields and not required:
        return
    try:
        count = len([float(v) for v in fields.get(key, "").split()])
    except ValueError:
        raise _fail(f"{key} holds a value that is not a number") from None
    if count != n:
        raise _fail(f"{key} has {count} values where the tree has {n}")


def _check_tree(i: int, block: str, max_feature: int) -> None:
    f = _fields(block)
    leaves = _ints(f, "num_leaves", 1)[0]
    cats = _ints(f, "num_cat", 1)[0] if "num_cat" in f else 0
    if not 1 <= leaves <= MAX_LEAVES or cats < 0:
        raise _fail(f"tree {i} has {leaves} leaves and {cats} categorical splits")
    if f.get("is_linear", "0").strip() not in ("", "0"):
        raise _fail(f"tree {i} is a linear tree, which Miles never trains")
    _floats(f, "leaf_value", leaves)
    nodes = leaves - 1
    if nodes == 0:
        return
    features = _ints(f, "split_feature", nodes)
    left, right = _ints(f, "left_child", nodes), _ints(f, "right_child", nodes)
    decision = _ints(f, "decision_type", nodes)
    _floats(f, "threshold", nodes)
    for key in ("split_gain", "internal_value", "internal_weight", "internal_count"):
        _floats(f, key, nodes, required=False)
    for key in ("leaf_weight", "leaf_count"):
        _floats(f, key, leaves, required=False)
    if any(not 0 <= x <= max_feature for x in features):
        raise _fail(f"tree {i} splits on a feature outside 0..{max_feature}")
    if cats:
        bounds = _ints(f, "cat_boundaries", cats + 1)
        words = len(f.get("cat_threshold", "").split())
        if bounds[0] != 0 or bounds != sorted(bounds) or bounds[-1] != words:
            raise _fail(f"tree {i}'s categorical boundaries disagree with its thresholds")
        thresholds = f.get("threshold", "").split()
        for d, t in zip(decision, thresholds):
            if d & 1 and not (t.replace(".", "", 1).isdigit() and 0 <= float(t) < cats):
                raise _fail(f"tree {i} has a categorical split outside its {cats} categories")
    elif any(d & 1 for d in decision):
        raise _fail(f"tree {i} has a categorical split but no categories")
    seen, leaf_seen, stack = set(), set(), [0]
    while stack:  # every internal node and every leaf reached exactly once from the root
        node = stack.pop()
        if node in seen:
            raise _fail(f"tree {i} reaches node {node} twice (a cycle)")
        seen.add(node)
        for child in (left[node], right[node]):
            if child >= 0:
                if child >= nodes:
                    raise _fail(f"tree {i} has a child {child} past its {nodes} nodes")
                stack.append(child)
            else:
                leaf = ~child
                if leaf >= leaves or leaf in leaf_seen:
                    raise _fail(f"tree {i} names leaf {leaf} out of range or twice")
                leaf_seen.add(leaf)
    if len(seen) != nodes or len(leaf_seen) != leaves:
        raise _fail(f"tree {i} has nodes its root does not reach")


def checked_model_text(text: str) -> str:
    """``text`` without its ``tree_sizes`` line once every tree is checked; a ``TamperedModel`` otherwise."""
    if not text.startswith("tree\n"):
        raise _fail("it does not start as a LightGBM text model does")
    starts = [m.start() for m in _TREE.finditer(text)]
    end = text.find("end of trees")
    if end < 0 or (starts and end < starts[-1]):
        raise _fail("it has no end of trees")
    header = _fields(text[:starts[0] if starts else end])
    try:
        max_feature = int(header.get("max_feature_idx", ""))
        classes, per_iteration = int(header.get("num_class", "")), int(header.get("num_tree_per_iteration", ""))
    except ValueError:
        raise _fail("its header lacks the number of features or classes") from None
    if not 0 <= max_feature < MAX_FEATURES or not 1 <= per_iteration <= classes <= 1000:
        raise _fail(f"its header says {max_feature + 1} features and {classes} classes")
    names = header.get("feature_names")
    if names is not None and len(names.split()) != max_feature + 1:
        raise _fail("its feature names disagree with its number of features")
    for n, (a, b) in enumerate(zip(starts, starts[1:] + [end])):
        if int(_TREE.match(text, a).group(1)) != n:
            raise _fail(f"its trees are not numbered 0, 1, 2, … (tree {n})")
        _check_tree(n, text[a:b], max_feature)
    return re.sub(r"^tree_sizes=.*\n", "", text[:starts[0] if starts else end], count=1, flags=re.M) + text[
        starts[0] if starts else end:]
