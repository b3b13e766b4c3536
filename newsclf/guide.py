"""Label guides (codebooks): parse and validate the YAML, and render it as a Markdown codebook.

Validation walks PyYAML's node tree rather than the loaded dict, because only the nodes keep line
numbers and only they reveal duplicate keys (a plain load silently keeps the last one).
"""

from __future__ import annotations

import difflib
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import yaml

from newsclf.errors import GuideError

KINDS = ("multi", "single")
# Keys the labeling page keeps for itself; a label may not take them.
RESERVED_KEYS = {
    "u": "undo",
    "s": "skip",
    "f": "flag",
    "?": "help",
    " ": "space",
    "0": "none of these",
}
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_\-]*$")
LANG_PATTERN = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


@dataclass(frozen=True)
class Label:
    """One label of a scheme, with what a labeler needs to apply it."""

    id: str
    name: str
    definition: str
    key: str
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    exclusive: bool = False  # never combined with another label of its scheme (e.g. "Other")


@dataclass(frozen=True)
class Target:
    """A stance target a scheme declares, with the other names that count as a mention of it."""

    name: str
    aliases: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """The name and its aliases: what the page highlights and what counts as a mention."""
        return (self.name,) + self.aliases


@dataclass(frozen=True)
class Scheme:
    """A question the labeler answers: `multi` takes any number of labels, `single` exactly one."""

    name: str
    kind: str
    labels: tuple[Label, ...]
    target: str | None = None
    question: str | None = None
    suggestions: bool = True
    targets: tuple[
        Target, ...
    ] = ()  # several declared targets; `target` is then the first one's name
    gate: str | None = (
        None  # a relevance gate: the label id that lets an article through to the other schemes
    )
    keywords: tuple[str, ...] = ()  # the gate's evidence terms (see keyword_verdict)

    @property
    def label_ids(self) -> list[str]:
        """The label ids in guide order."""
        return [label.id for label in self.labels]

    def effective_target(self, record_target: str | None) -> str:
        """A record's own target overrides the scheme's default; a scheme without a target has none
        ('')."""
        if self.target is None:
            return ""
        return record_target or self.target

    @property
    def exclusive_ids(self) -> set[str]:
        """Ids of labels that are never combined with another label of this scheme."""
        return {label.id for label in self.labels if label.exclusive}

    def declared_targets(self) -> tuple[Target, ...]:
        """The scheme's targets: its `targets` list, or its one `target` (no aliases); none for a
        topic scheme."""
        if self.targets:
            return self.targets
        return (Target(self.target),) if self.target else ()

    def mentioned_targets(self, text: str) -> list[Target]:
        """The declared targets that `text` mentions by name or alias (case-insensitive, whole
        words)."""
        return [t for t in self.declared_targets() if mentions(text, t.names)]

    def label(self, label_id: str) -> Label:
        """The label with this id."""
        for label in self.labels:
            if label.id == label_id:
                return label
        raise KeyError(label_id)


@dataclass(frozen=True)
class Guide:
    """A validated label guide."""

    name: str
    version: str
    schemes: tuple[Scheme, ...]
    languages: tuple[str, ...] = ()
    description: str | None = None
    path: str | None = field(default=None, compare=False)

    def scheme(self, name: str) -> Scheme:
        """The scheme with this name."""
        for scheme in self.schemes:
            if scheme.name == name:
                return scheme
        raise KeyError(
            f"the guide {self.name!r} has no scheme {name!r}; it has {', '.join(self.scheme_names)}"
        )

    @property
    def gate(self) -> Scheme | None:
        """The relevance gate scheme, if the guide has one: the other schemes apply only where it
        lets through."""
        return next((s for s in self.schemes if s.gate), None)

    def gated(self, scheme: str) -> bool:
        """Whether a scheme is coded and predicted only where the gate lets an article through."""
        gate = self.gate
        return gate is not None and scheme != gate.name

    @property
    def scheme_names(self) -> list[str]:
        """Scheme names in guide order."""
        return [s.name for s in self.schemes]


# --- validation --------------------------------------------------------------------------------


@dataclass
class _Field:
    kind: str  # "str", "strlist", "bool", "list", "key"
    required: bool = False
    help: str = ""


GUIDE_FIELDS = {
    "name": _Field("str", True, "a short name, e.g. name: ai-discourse"),
    "version": _Field("str", True, 'a version string, e.g. version: "1.0"'),
    "languages": _Field("strlist", False, "a list of BCP 47 codes, e.g. languages: [en, id]"),
    "description": _Field("str", False, "a paragraph for the codebook's introduction"),
    "schemes": _Field("list", True, "a list of schemes, each with name, kind and labels"),
}
SCHEME_FIELDS = {
    "name": _Field("str", True, "a short id, e.g. name: topics"),
    "kind": _Field("str", True, "kind: multi (any number of labels) or kind: single (exactly one)"),
    "target": _Field("str", False, "the stance target, e.g. target: OpenAI"),
    "targets": _Field(
        "list",
        False,
        "a list of stance targets, each with name and aliases, "
        "e.g. targets: [{name: OpenAI, aliases: [Open AI]}]",
    ),
    "question": _Field("str", False, "the question the labeler answers"),
    "suggestions": _Field("bool", False, "suggestions: true or false (model suggestions allowed)"),
    "gate": _Field(
        "str",
        False,
        'the label id that lets an article through to the other schemes, e.g. gate: "yes"',
    ),
    "keywords": _Field(
        "strlist",
        False,
        "the gate's evidence terms, e.g. keywords: [artificial intelligence, AI]: an "
        "article naming none is kept out, one naming them twice or in its title let through",
    ),
    "labels": _Field("list", True, "a list of labels, each with id, name, definition and key"),
}
LABEL_FIELDS = {
    "id": _Field("str", True, "a lowercase id, e.g. id: labor"),
    "name": _Field("str", True, "the display name, e.g. name: AI labor and data work"),
    "definition": _Field("str", True, "one or two sentences a labeler can apply"),
    "key": _Field("key", True, 'one keyboard character, e.g. key: "1"'),
    "include": _Field("strlist", False, "a list of cases that belong under this label"),
    "exclude": _Field("strlist", False, "a list of cases that do not"),
    "examples": _Field("strlist", False, "a list of short example passages"),
    "exclusive": _Field(
        "bool", False, "exclusive: true (never combined with another label of the scheme)"
    ),
}
TARGET_FIELDS = {
    "name": _Field("str", True, "the target's name as articles write it, e.g. name: OpenAI"),
    "aliases": _Field(
        "strlist", False, "other names that count as a mention, e.g. aliases: [Open AI]"
    ),
}


class _Checker:
    """Collects every problem with its line, so a user fixes the whole file in one pass."""

    def __init__(self, path: str):
        self.path = path
        self.problems: list[str] = []

    def problem(self, node: yaml.Node | None, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 1
        self.problems.append(f"{self.path}:{line}: {message}")

    def mapping(
        self, node: yaml.Node, spec: dict[str, _Field], where: str
    ) -> dict[str, tuple[yaml.Node, Any]]:
        """Check a mapping node against a field spec; return {key: (value node, value)}."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                node,
                f"{where} must be a mapping of keys to values; write e.g. "
                + ", ".join(f"{k}: ..." for k, f in spec.items() if f.required),
            )
            return {}
        out: dict[str, tuple[yaml.Node, Any]] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if key is None:
                self.problem(key_node, f"{where} has a key that is not a plain word")
                continue
            if key in out:
                self.problem(
                    key_node,
                    f"duplicate key {key!r} in {where} (first on line "
                    f"{out[key][0].start_mark.line + 1}); keep one",
                )
                continue
            if key not in spec:
                close = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.6)
                hint = (
                    f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(spec)}"
                )
                self.problem(key_node, f"unknown key {key!r} in {where}; {hint}")
                continue
            value = self.value(value_node, spec[key], f"{where}.{key}")
            out[key] = (value_node, value)
        for key, fspec in spec.items():
            if (
                fspec.required
                and key not in out
                and not any(
                    isinstance(k, yaml.ScalarNode) and k.value == key for k, _ in node.value
                )
            ):
                self.problem(node, f"{where} is missing {key!r}; add {fspec.help}")
        return out

    def value(self, node: yaml.Node, fspec: _Field, where: str) -> Any:
        if fspec.kind in ("str", "key"):
            if (
                not isinstance(node, yaml.ScalarNode)
                or node.tag.endswith(":null")
                or node.value == ""
            ):
                self.problem(node, f"{where} must be a text value; write {fspec.help}")
                return None
            return node.value
        if fspec.kind == "bool":
            if not (isinstance(node, yaml.ScalarNode) and node.tag.endswith(":bool")):
                self.problem(node, f"{where} must be true or false")
                return None
            return node.value.lower() in ("true", "yes", "on", "y")
        if fspec.kind == "strlist":
            if isinstance(node, yaml.ScalarNode) and not node.tag.endswith(":null"):
                return [node.value]  # a single string is a list of one
            if not isinstance(node, yaml.SequenceNode):
                self.problem(node, f"{where} must be a list; write {fspec.help}")
                return None
            items = []
            for item in node.value:
                if not isinstance(item, yaml.ScalarNode) or item.value == "":
                    self.problem(item, f"each item of {where} must be a text value")
                else:
                    items.append(item.value)
            return items
        if fspec.kind == "list":
            if not isinstance(node, yaml.SequenceNode) or not node.value:
                self.problem(node, f"{where} must be a non-empty list; write {fspec.help}")
                return None
            return node.value
        raise AssertionError(fspec.kind)


def _field_getter(values: dict[str, Any]) -> Callable[[str], Any]:
    """A lookup of a checked mapping's values: the field's value, or None when it is absent."""
    return lambda key: values[key][1] if key in values else None


def _check_label(chk: _Checker, node: yaml.Node, where: str) -> tuple[Label | None, str | None]:
    """A Label, or None if invalid; and its id when that much is valid (for duplicate checks)."""
    values = chk.mapping(node, LABEL_FIELDS, where)
    get = _field_getter(values)
    label_id = get("id")
    if label_id is not None and not ID_PATTERN.match(label_id):
        chk.problem(
            values["id"][0],
            f"label id {label_id!r} must be lowercase letters, digits, '-' or '_'; "
            "write e.g. id:"
            f" {re.sub(r'[^a-z0-9_-]+', '_', label_id.lower()).strip('_') or 'label'}",
        )
        label_id = None
    key = get("key")
    if key is not None:
        if len(key) != 1:
            chk.problem(
                values["key"][0],
                f'key {key!r} must be a single character; write e.g. key: "{key[:1]}"',
            )
            key = None
        elif key.lower() in RESERVED_KEYS:
            chk.problem(
                values["key"][0],
                f"key {key!r} is kept for {RESERVED_KEYS[key.lower()]} on the labeling "
                "page; choose a digit or another letter",
            )
            key = None
    if None in (label_id, get("name"), get("definition"), key):
        return None, label_id
    return (
        Label(
            id=label_id,
            name=get("name"),
            definition=get("definition").strip(),
            key=key,
            include=tuple(get("include") or ()),
            exclude=tuple(get("exclude") or ()),
            examples=tuple(get("examples") or ()),
            exclusive=bool(get("exclusive")),
        ),
        label_id,
    )


def _check_scheme(
    chk: _Checker, node: yaml.Node, where: str, keys_seen: dict[str, str]
) -> Scheme | None:
    values = chk.mapping(node, SCHEME_FIELDS, where)
    get = _field_getter(values)
    name = get("name")
    if name is not None and not ID_PATTERN.match(name):
        chk.problem(
            values["name"][0], f"scheme name {name!r} must be lowercase letters, digits, '-' or '_'"
        )
        name = None
    kind = get("kind")
    if kind is not None and kind not in KINDS:
        close = difflib.get_close_matches(kind, KINDS, n=1)
        chk.problem(
            values["kind"][0],
            f"kind {kind!r} is not one of {', '.join(KINDS)}"
            + (f"; did you mean {close[0]!r}?" if close else ""),
        )
        kind = None
    labels: list[Label] = []
    ids_seen: dict[str, int] = {}
    for i, label_node in enumerate(get("labels") or []):
        label, label_id = _check_label(chk, label_node, f"{where}.labels[{i}]")
        if label_id is not None and label_id in ids_seen:
            chk.problem(
                label_node,
                f"duplicate label id {label_id!r} in scheme {name!r} (first on line "
                f"{ids_seen[label_id]}); give each label its own id",
            )
            continue
        if label_id is not None:
            ids_seen[label_id] = label_node.start_mark.line + 1
        if label is None:
            continue
        if label.key in keys_seen:
            chk.problem(
                label_node,
                f"key {label.key!r} of label {label.id!r} is already used by"
                f" {keys_seen[label.key]}; every key must be unique across the guide, since all"
                " schemes share one screen",
            )
            continue
        keys_seen[label.key] = f"{name}/{label.id}"
        labels.append(label)
    if kind == "single" and get("labels") is not None and len(get("labels")) < 2:
        chk.problem(
            node, f"scheme {name!r} is single-choice but has fewer than two labels; add more"
        )
    if kind == "multi" and len(labels) > 1 and all(lab.exclusive for lab in labels):
        chk.problem(
            node,
            f"every label of scheme {name!r} is exclusive; a multi-label scheme needs labels that"
            " combine (or make it kind: single)",
        )
    gate = get("gate")
    if gate is not None and kind is not None and labels:
        if kind != "single":
            chk.problem(
                values["gate"][0],
                f"scheme {name!r} is a gate, so it must be kind: single (one answer)",
            )
        elif gate not in {lab.id for lab in labels}:
            chk.problem(
                values["gate"][0],
                f"gate {gate!r} is not a label of scheme {name!r}; name the label that "
                f"lets an article through, one of {', '.join(lab.id for lab in labels)}",
            )
    keywords = tuple(k.strip() for k in get("keywords") or () if k and k.strip())
    if keywords and gate is None:
        chk.problem(
            values["keywords"][0],
            f"scheme {name!r} has keywords but is not the gate; keywords are the "
            "relevance gate's evidence (add gate: LABEL or remove them)",
        )
    targets = _check_targets(chk, values.get("targets"), f"{where}.targets")
    if targets and "target" in values:
        chk.problem(
            values["target"][0],
            f"{where} has both target and targets; keep targets and list every target there",
        )
    if None in (name, kind, get("labels")):
        return None
    suggestions = get("suggestions")
    return Scheme(
        name=name,
        kind=kind,
        labels=tuple(labels),
        target=targets[0].name if targets else get("target"),
        question=get("question"),
        suggestions=True if suggestions is None else suggestions,
        targets=tuple(targets),
        gate=gate,
        keywords=keywords,
    )


def _check_targets(chk: _Checker, entry: tuple[yaml.Node, Any] | None, where: str) -> list[Target]:
    """The declared stance targets; a name or alias may belong to one target only."""
    if entry is None or entry[1] is None:
        return []
    targets: list[Target] = []
    owner: dict[str, str] = {}
    for i, node in enumerate(entry[1]):
        if isinstance(node, yaml.ScalarNode):  # a bare name: a target without aliases
            values = {"name": (node, node.value or None)}
        else:
            values = chk.mapping(node, TARGET_FIELDS, f"{where}[{i}]")
        name = values["name"][1] if "name" in values else None
        if not name:
            continue
        target = Target(
            name=name.strip(),
            aliases=tuple(a.strip() for a in values.get("aliases", (None, None))[1] or ()),
        )
        clash = [n for n in target.names if n.casefold() in owner]
        if clash:
            chk.problem(
                node,
                f"{clash[0]!r} already names target {owner[clash[0].casefold()]!r}; "
                "a name or alias may belong to one target only",
            )
            continue
        owner.update({n.casefold(): target.name for n in target.names})
        targets.append(target)
    return targets


KEYWORD_MENTIONS_TO_LET_THROUGH = (
    2  # a gate keyword named this often (or in the title) lets an article through
)


def keyword_verdict(scheme: Scheme, title: str | None, text: str) -> str | None:
    """The gate's keyword rule: 'closed' (no keyword named), 'open' (in the title, or named twice),
    None (the model decides).

    Keyword sampling is how media studies have long drawn coverage of a subject; here it bounds a
    model trained on a few hundred articles, which otherwise reads politics or celebrity news that
    shares words with AI policy as on topic.
    """
    if not scheme.keywords:
        return None
    pattern = mention_pattern(scheme.keywords)
    if pattern.search(title or ""):
        return "open"
    named = sum(
        1 for _ in zip(range(KEYWORD_MENTIONS_TO_LET_THROUGH), pattern.finditer(text or ""))
    )
    return "closed" if named == 0 else "open" if named >= KEYWORD_MENTIONS_TO_LET_THROUGH else None


def mention_pattern(names: tuple[str, ...] | list[str]) -> re.Pattern[str] | None:
    """One regex matching any of `names` as a whole word, longest first; None without names
    (cached)."""
    return _pattern(tuple(names))


def mentions(text: str, names: tuple[str, ...] | list[str]) -> bool:
    """Whether `text` names any of `names` (case-insensitive, as whole words)."""
    pattern = mention_pattern(names)
    return bool(pattern and pattern.search(text or ""))


@functools.lru_cache(maxsize=256)
def _pattern(names: tuple[str, ...]) -> re.Pattern[str] | None:
    clean = sorted({n for n in names if n and n.strip()}, key=len, reverse=True)
    if not clean:
        return None
    return re.compile(
        r"(?<!\w)(" + "|".join(re.escape(n) for n in clean) + r")(?!\w)", re.IGNORECASE
    )


MAX_DEPTH = 50  # nesting a guide may use (it needs about 6); PyYAML's composer recurses per level
EXPANSION = (
    10  # aliases may repeat text up to this many times the file's size (plus EXPANSION_SLACK)
)
EXPANSION_SLACK = 64_000


def _check_depth(text: str, path: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH by line, from PyYAML's event stream (which does not
    recurse)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise GuideError(
                    [
                        f"{path}:{event.start_mark.line + 1}: the guide nests deeper than"
                        f" {MAX_DEPTH} levels; a guide needs about 6 (schemes, labels, examples)"
                    ]
                )
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _check_expansion(root: yaml.Node, text: str, path: str) -> None:
    """Refuse aliases that expand the guide past EXPANSION times its size (a 'billion laughs' bomb),
    by line."""
    sizes: dict[int, int] = {}
    uses: dict[int, int] = {}
    nodes: dict[int, yaml.Node] = {}
    order: list[
        yaml.Node
    ] = []  # parents before children, each node once (aliases share node objects)
    stack = [root]
    while stack:
        node = stack.pop()
        uses[id(node)] = uses.get(id(node), 0) + 1
        if id(node) in nodes:
            continue
        nodes[id(node)] = node
        order.append(node)
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(n for pair in node.value for n in pair)
    # children first: each size is computed once, however often it is used
    for node in reversed(order):
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = len(node.value) + 1
        elif isinstance(node, yaml.SequenceNode):
            sizes[id(node)] = 1 + sum(sizes[id(n)] for n in node.value)
        else:
            sizes[id(node)] = 1 + sum(sizes[id(n)] for pair in node.value for n in pair)
    limit = EXPANSION * len(text) + EXPANSION_SLACK
    if sizes[id(root)] > limit:
        worst = max((n for n in order if uses[id(n)] > 1), key=lambda n: sizes[id(n)] * uses[id(n)])
        raise GuideError(
            [
                f"{path}:{worst.start_mark.line + 1}: aliases expand the guide to"
                f" {sizes[id(root)]:,} characters, more than {EXPANSION} times the file; this"
                f" anchor is used {uses[id(worst)]:,} times: write the text out where it is needed"
            ]
        )


def parse_guide(text: str, path: str = "<guide>") -> Guide:
    """Parse and validate guide YAML text; raise GuideError listing every problem as FILE:LINE."""
    chk = _Checker(path)
    try:
        _check_depth(text, path)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise GuideError(
            [f"{path}:{line}: not valid YAML: {exc.problem or exc}; check indentation and quoting"]
        ) from None
    except yaml.reader.ReaderError as exc:  # a control character YAML does not allow
        line = text.count("\n", 0, exc.position) + 1
        raise GuideError(
            [f"{path}:{line}: character {exc.character!r} is not allowed in YAML; remove it"]
        ) from None
    except yaml.YAMLError as exc:
        raise GuideError([f"{path}:1: not valid YAML: {exc}"]) from None
    if root is None:
        raise GuideError([f"{path}:1: the guide is empty; start with name:, version: and schemes:"])
    _check_expansion(root, text, path)
    values = chk.mapping(root, GUIDE_FIELDS, "the guide")
    get = _field_getter(values)
    languages = get("languages") or []
    for lang in languages:
        if not LANG_PATTERN.match(lang):
            chk.problem(
                values["languages"][0],
                f"language {lang!r} is not a BCP 47 code; write e.g. en, id, pt-BR",
            )
    schemes: list[Scheme] = []
    names_seen: set[str] = set()
    keys_seen: dict[str, str] = {}
    for i, snode in enumerate(get("schemes") or []):
        scheme = _check_scheme(chk, snode, f"schemes[{i}]", keys_seen)
        if scheme is None:
            continue
        if scheme.name in names_seen:
            chk.problem(
                snode, f"duplicate scheme name {scheme.name!r}; give each scheme its own name"
            )
            continue
        names_seen.add(scheme.name)
        schemes.append(scheme)
    gates = [s for s in schemes if s.gate]
    if len(gates) > 1:
        chk.problem(
            get("schemes")[0],
            f"schemes {', '.join(repr(s.name) for s in gates)} are all gates; keep one",
        )
    if chk.problems:
        raise GuideError(chk.problems)
    # The gate is asked (and predicted) first: its answer decides whether the others apply.
    schemes.sort(key=lambda s: not s.gate)
    return Guide(
        name=get("name"),
        version=str(get("version")),
        schemes=tuple(schemes),
        languages=tuple(languages),
        description=get("description"),
        path=path,
    )


def load_guide(path: str | Path) -> Guide:
    """Read and validate a label guide file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise GuideError([f"{path}:1: no such file"]) from None
    except UnicodeDecodeError as exc:
        raise GuideError(
            [f"{path}:1: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"]
        ) from None
    return parse_guide(text, str(path))


def render_markdown(guide: Guide) -> str:
    """The guide as a Markdown codebook, suitable for a paper's appendix."""
    out = [f"# Codebook: {guide.name} (version {guide.version})", ""]
    if guide.description:
        out += [guide.description.strip(), ""]
    if guide.languages:
        out += [f"Languages coded: {', '.join(guide.languages)}.", ""]
    for scheme in guide.schemes:
        how = (
            "any number of labels may apply"
            if scheme.kind == "multi"
            else "exactly one label applies"
        )
        out += [f"## Scheme `{scheme.name}` ({how})", ""]
        if scheme.gate:
            others = ", ".join(f"`{s.name}`" for s in guide.schemes if s is not scheme)
            out += [
                (
                    f"**Relevance gate:** asked first. Only an article coded `{scheme.gate}` here"
                    f" is coded for {others}; any other answer ends the article."
                ),
                "",
            ]
            if scheme.keywords:
                out += [
                    (
                        "**Keywords** (the model's evidence for this gate):"
                        f" {', '.join(scheme.keywords)}. The model keeps out an article that names"
                        " none of them and lets through one that names them in its title or at"
                        " least twice; between those it decides by the text. Coders decide by the"
                        " definitions."
                    ),
                    "",
                ]
        if scheme.question:
            out += [f"**Question:** {scheme.question.strip()}", ""]
        if scheme.targets:
            out += [
                (
                    "**Stance targets** (the stance is coded toward each one the article mentions;"
                    " the other names count as mentions):"
                ),
                "",
            ]
            out += [
                f"- {t.name}" + (f" (also: {', '.join(t.aliases)})" if t.aliases else "")
                for t in scheme.targets
            ]
            out.append("")
        elif scheme.target:
            out += [
                f"**Default stance target:** {scheme.target} (a record's own target overrides it).",
                "",
            ]
        out += ["| key | id | label |", "|---|---|---|"]
        out += [
            f"| `{lab.key}` | `{lab.id}` |"
            f" {lab.name}{' (never combined with another label)' if lab.exclusive else ''} |"
            for lab in scheme.labels
        ]
        out.append("")
        for lab in scheme.labels:
            out += [f"### {lab.name} (`{lab.id}`, key `{lab.key}`)", "", lab.definition, ""]
            for title, items in (
                ("Include", lab.include),
                ("Exclude", lab.exclude),
                ("Examples", lab.examples),
            ):
                if items:
                    out += [f"**{title}:**", ""] + [f"- {item.strip()}" for item in items] + [""]
    return "\n".join(out).rstrip() + "\n"
