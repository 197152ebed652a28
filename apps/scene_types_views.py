"""The scene types page's views: the settings table with each value's source, the editor
(prompt and any one setting), the versions with a diff between two and a rollback. Each
follows apps/scene_types_state.py; the page is apps/scene_types.py."""

import html
import json

import panel as pn

from apps.scene_types_state import SceneTypesSession
from apps.theme import COLOURS, TYPE
from trulience.generation.scene_config import FIELDS
from trulience.generation.scene_history import SettingSource, VersionDiff

_C = COLOURS["light"]
_INTEGERS = ("width", "height", "seed")
_MAPPINGS = ("qa_rules", "presets", "params")
_DIFF_COLOURS = {
    "add": "#e6f4ea",
    "remove": "#fce8e6",
    "hunk": "#eef1fb",
    "file": "#eef1fb",
    "context": "none",
}


def source_text(setting: SettingSource) -> str:
    """Where a setting's value comes from, as the page says it."""
    if setting.source == "inherited":
        return f"inherited from {setting.origin}"
    return setting.source


def settings_html(settings: list[SettingSource], error: tuple[str, str] | None) -> str:
    """The settings table: name, effective value, source (own ones in bold), and the
    refusal of the last edit under its field."""
    rows = []
    for s in settings:
        weight = "600" if s.source == "own" else "400"
        colour = _C["text"] if s.source == "own" else _C["muted"]
        refused = ""
        if error is not None and error[0] == s.name:
            refused = (
                f'<div class="scene-types-field-error" style="color:{_C["danger"]}">'
                f"{html.escape(error[1])}</div>"
            )
        rows.append(
            f'<tr class="scene-setting scene-setting-{s.name}" data-source="{s.source}">'
            f'<td style="padding:2px 8px">{s.name}</td>'
            f'<td class="scene-setting-value" style="padding:2px 8px;font-weight:{weight};'
            f'color:{colour};font-family:{TYPE["mono"]}">{html.escape(s.value)}{refused}</td>'
            f'<td class="scene-setting-source" style="padding:2px 8px;color:{_C["muted"]}">'
            f"{html.escape(source_text(s))}</td></tr>"
        )
    head = "<tr><th>setting</th><th>value</th><th>from</th></tr>"
    return f'<table class="scene-types-settings">{head}{"".join(rows)}</table>'


def diff_html(diff: VersionDiff | None) -> str:
    """A unified diff, each line coloured by its kind ("" when there is none)."""
    if diff is None:
        return ""
    if not diff.lines:
        return f"<p>v{diff.old} and v{diff.new} store the same settings</p>"
    lines = "".join(
        f'<div class="diff-line diff-{line.kind}" style="background:{_DIFF_COLOURS[line.kind]};'
        f'white-space:pre-wrap">{html.escape(line.text)}</div>'
        for line in diff.lines
    )
    return f'<div style="font-family:{TYPE["mono"]};font-size:{TYPE["small"]}">{lines}</div>'


def typed_value(name: str, text: str) -> object:
    """The value a producer typed for setting `name`: whole numbers and JSON mappings read
    as such; anything unreadable is passed on as text, to be refused naming the field."""
    text = text.strip()
    if name in _INTEGERS:
        try:
            return int(text)
        except ValueError:
            return text
    if name in _MAPPINGS and text:
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return text
    return text


class EditorView(pn.viewable.Viewer):
    """The opened scene type: its settings table, the prompt editor, any one setting, the
    versions with a diff and a rollback; a viewer's editor is hidden."""

    def __init__(self, session: SceneTypesSession, **params):
        super().__init__(**params)
        self.session = session
        self.title = pn.pane.Markdown("", css_classes=["scene-types-title"])
        self.table = pn.pane.HTML("", sizing_mode="stretch_width")
        self.prompt = pn.widgets.TextAreaInput(
            label="Prompt template", height=90, css_classes=["scene-types-prompt"]
        )
        self.save_prompt = pn.widgets.Button(
            label="Save prompt", color="primary", css_classes=["scene-types-save-prompt"]
        )
        self.field = pn.widgets.Select(
            label="Setting", options=list(FIELDS), css_classes=["scene-types-field"]
        )
        self.value = pn.widgets.TextInput(
            label="Value (empty: inherit)", css_classes=["scene-types-value"]
        )
        self.set_button = pn.widgets.Button(label="Set", css_classes=["scene-types-set"])
        self.old = pn.widgets.Select(label="From", css_classes=["scene-types-diff-old"])
        self.new = pn.widgets.Select(label="To", css_classes=["scene-types-diff-new"])
        self.diff_button = pn.widgets.Button(label="Diff", css_classes=["scene-types-diff-go"])
        self.back_to = pn.widgets.Select(label="Version", css_classes=["scene-types-back-to"])
        self.rollback_button = pn.widgets.Button(
            label="Roll back", color="warning", css_classes=["scene-types-rollback"]
        )
        self.versions = pn.pane.HTML("", css_classes=["scene-types-versions"])
        self.diff = pn.pane.HTML("", css_classes=["scene-types-diff"], sizing_mode="stretch_width")
        self.save_prompt.on_click(lambda _: session.save({"prompt_template": self.prompt.value}))
        self.set_button.on_click(
            lambda _: session.save(
                {self.field.value: typed_value(self.field.value, self.value.value)}
            )
        )
        self.diff_button.on_click(lambda _: session.compare(self.old.value, self.new.value))
        self.rollback_button.on_click(lambda _: session.rollback(self.back_to.value))
        self.edits = pn.Column(
            pn.Row(self.prompt, self.save_prompt),
            pn.Row(self.field, self.value, self.set_button),
            pn.Row(self.back_to, self.rollback_button),
        )
        self.layout = pn.Column(
            self.title,
            self.table,
            self.edits,
            pn.pane.Markdown("#### Versions"),
            self.versions,
            pn.Row(self.old, self.new, self.diff_button),
            self.diff,
            sizing_mode="stretch_width",
        )
        session.param.watch(self._show, ["settings", "versions", "field_error", "may_edit"])
        session.param.watch(lambda e: setattr(self.diff, "object", diff_html(e.new)), "diff")
        self._show()

    def _show(self, *_events) -> None:
        session = self.session
        self.layout.visible = session.slug is not None
        if session.slug is None:
            return
        parent = session.parents.get(session.slug)
        self.title.object = f"### {session.slug}" + (f" (inherits {parent})" if parent else "")
        self.table.object = settings_html(session.settings, session.field_error)
        own_prompt = next((s.own for s in session.settings if s.name == "prompt_template"), "")
        self.prompt.value = own_prompt
        numbers = [v.version for v in session.versions]
        labels = {f"v{n}": n for n in numbers}
        for select in (self.old, self.new, self.back_to):
            select.options = labels
        if numbers:
            self.old.value = numbers[0]
            self.new.value = numbers[-1]
            self.back_to.value = numbers[0]
        self.versions.object = (
            "<ul>"
            + "".join(
                f'<li class="scene-types-version scene-types-version-{v.version}">v{v.version} · '
                f"{v.created_at:%Y-%m-%d %H:%M} · {html.escape(v.prompt_template)}</li>"
                for v in session.versions
            )
            + "</ul>"
        )
        self.edits.visible = session.may_edit

    def __panel__(self) -> pn.Column:
        return self.layout
