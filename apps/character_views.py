"""The character page's views (issue 17): its facts and source images with QA verdicts, its
identity band per face model, its takes per scene type (each linking to review), the
metadata form generated from the schema (errors shown at their field) and its scene-type
overrides. State: apps/character_state.py."""

import html
import json

import panel as pn

from apps.character_state import CharacterSession, FormField
from apps.library_views import wrapping
from trulience.storage import Storage


class FactsView(pn.viewable.Viewer):
    """Name, slug, projects and tags; the source images with their QA verdicts; identity
    bands; takes per scene type with status and review decision."""

    def __init__(self, session: CharacterSession, storage: Storage, **params):
        super().__init__(**params)
        self.session, self.storage = session, storage
        self.pane = pn.pane.HTML("", css_classes=["character-facts"], sizing_mode="stretch_width")
        session.param.watch(lambda *_: self._follow(), ["title", "images", "bands", "takes"])
        self._follow()

    def _image_url(self, uri: str) -> str | None:
        try:
            from apps.media_routes import media_url

            return media_url(self.storage.key_of(uri))
        except Exception:  # an image outside storage or no signing key: no thumbnail
            return None

    def _follow(self) -> None:
        s = self.session
        if not s.slug:
            self.pane.object = (
                "<p>Open a character from the <a href='?page=library'>library</a>.</p>"
            )
            return
        images = "".join(self._image(i) for i in s.images) or "<p>No source image yet.</p>"
        bands = (
            "<table class='character-bands'><tr><th>model</th><th>samples</th><th>min</th>"
            "<th>p05</th><th>median</th><th>threshold</th></tr>"
            + "".join(
                f"<tr><td>{html.escape(b.model)}</td><td>{b.samples}</td><td>{b.same_min:.3f}"
                f"</td><td>{b.same_p05:.3f}</td><td>{b.same_median:.3f}</td>"
                f"<td>{b.threshold:.3f}</td></tr>"
                for b in s.bands
            )
            + "</table>"
            if s.bands
            else "<p class='character-bands'>No identity yet.</p>"
        )
        takes = "".join(
            f"<tr class='character-take character-take-{t.scene_id}'>"
            f"<td>{html.escape(t.scene_type)}</td><td>{html.escape(t.project)}</td>"
            f"<td><a href='?page=review&take={t.scene_id}'>take {t.take}</a>"
            f"{'' if t.branch == 'main' else ' · ' + html.escape(t.branch)}</td>"
            f"<td>{html.escape(t.status)}</td>"
            f"<td>{html.escape(t.decision or 'undecided')}</td></tr>"
            for t in s.takes
        )
        takes_table = (
            "<table class='character-takes'><tr><th>scene type</th><th>project</th><th>take</th>"
            f"<th>status</th><th>review</th></tr>{takes}</table>"
            if takes
            else "<p class='character-takes'>No take yet.</p>"
        )
        chips = "".join(f" <span class='library-chip'>{html.escape(t)}</span>" for t in s.tags)
        self.pane.object = (
            f"<h3 class='character-title'>{html.escape(s.title)} <code>{html.escape(s.slug)}"
            f"</code></h3><p>{html.escape(', '.join(s.projects) or 'no project')}{chips} · "
            "<a href='?page=library'>back to the library</a></p>"
            f"<h4>Source images</h4><div class='character-images'>{images}</div>"
            f"<h4>Identity band</h4>{bands}<h4>Takes</h4>{takes_table}"
        )

    def _image(self, image) -> str:
        url = self._image_url(image.uri)
        picture = (
            f"<img src='{html.escape(url, quote=True)}' width='96' loading='lazy'>"
            if url
            else "<div class='character-no-picture'>no picture</div>"
        )
        why = "; ".join(image.failures)
        score = "" if image.qa_score is None else f" {image.qa_score:.2f}"
        return (
            f"<figure class='character-image character-qa-{image.qa_status}'>{picture}"
            f"<figcaption>{html.escape(image.name)} v{image.version}"
            f"{' · primary' if image.primary else ''}<br>QA {image.qa_status}{score}"
            f"{'<br>' + html.escape(why) if why else ''}</figcaption></figure>"
        )

    def __panel__(self) -> pn.pane.HTML:
        return self.pane


class MetadataForm(pn.viewable.Viewer):
    """A form field per schema field (a choice list for an enum), each with its error under
    it; Save for a producer. A viewer sees the values, disabled."""

    def __init__(self, session: CharacterSession, **params):
        super().__init__(**params)
        self.session = session
        self.inputs: dict[str, pn.widgets.Widget] = {}
        self.errors: dict[str, pn.pane.HTML] = {}
        self.whole = pn.pane.HTML("", css_classes=["character-field-error", "character-form-error"])
        self.save = pn.widgets.Button(
            label="Save metadata", color="primary", css_classes=["character-save"]
        )
        self.save.on_click(lambda _: self._save())
        self.fields = pn.FlexBox(flex_wrap="wrap", sizing_mode="stretch_width")
        session.param.watch(lambda *_: self._build(), ["fields", "may_edit"])
        session.param.watch(lambda *_: self._errors(), "field_errors")
        self._build()

    def _build(self) -> None:
        s = self.session
        self.inputs, self.errors = {}, {}
        rows = []
        for field in s.fields:
            widget = self._widget(field, not s.may_edit)
            error = pn.pane.HTML("", css_classes=["character-field-error"], visible=False)
            self.inputs[field.name], self.errors[field.name] = widget, error
            rows.append(pn.Column(widget, error, css_classes=[f"character-field-{field.name}"]))
        self.fields.objects = rows
        self.save.visible = s.may_edit
        self._errors()

    @staticmethod
    def _widget(field: FormField, read_only: bool) -> pn.widgets.Widget:
        label = f"{field.name}{' *' if field.required else ''} ({field.kind})"
        if field.choices:
            options = ["", *(field_choice(c) for c in field.choices)]
            value = field.text if field.text in options else ""
            return pn.widgets.Select(label=label, options=options, value=value, disabled=read_only)
        return pn.widgets.TextInput(label=label, value=field.text, disabled=read_only)

    def _errors(self) -> None:
        found = self.session.field_errors
        for name, pane in self.errors.items():
            pane.object = html.escape(found.get(name, ""))
            pane.visible = name in found
        self.whole.object = html.escape(found.get("$", ""))
        self.whole.visible = "$" in found

    def _save(self) -> None:
        self.session.save_metadata({name: w.value for name, w in self.inputs.items()})

    def __panel__(self) -> pn.Column:
        return pn.Column(
            pn.pane.Markdown("#### Metadata"),
            self.whole,
            self.fields,
            self.save,
            css_classes=["character-form"],
            sizing_mode="stretch_width",
        )


def field_choice(value) -> str:
    """An enum's value as the form lists it (what `field_value` reads back)."""
    return value if isinstance(value, str) else json.dumps(value)


class OverridesView(pn.viewable.Viewer):
    """This character's own settings per scene type, as JSON; a producer edits them."""

    def __init__(self, session: CharacterSession, **params):
        super().__init__(**params)
        self.session = session
        self.scene_type = pn.widgets.Select(
            label="Scene type", options=[], css_classes=["character-override-scene-type"]
        )
        self.text = pn.widgets.TextAreaInput(
            label='Overrides (JSON, e.g. {"seed": 7}; {} removes)',
            css_classes=["character-override-text"],
            height=90,
        )
        self.save = pn.widgets.Button(
            label="Save override", css_classes=["character-override-save"]
        )
        self.save.on_click(lambda _: session.save_override(self.scene_type.value, self.text.value))
        self.error = pn.pane.HTML("", css_classes=["character-override-error"], visible=False)
        self.listing = pn.pane.HTML("", css_classes=["character-overrides"])
        self.scene_type.param.watch(lambda _: self._show_text(), "value")
        session.param.watch(
            lambda *_: self._follow(), ["scene_types", "overrides", "override_error", "may_edit"]
        )
        self._follow()

    def _follow(self) -> None:
        s = self.session
        self.scene_type.options = list(s.scene_types)
        self.listing.object = (
            "".join(
                f"<div><b>{html.escape(k)}</b> <code>{html.escape(json.dumps(v))}</code></div>"
                for k, v in s.overrides.items()
            )
            or "No overrides: every take uses its scene type's settings."
        )
        self.error.object = html.escape(s.override_error or "")
        self.error.visible = s.override_error is not None
        self.text.disabled = not s.may_edit
        self.save.visible = s.may_edit
        self._show_text()

    def _show_text(self) -> None:
        chosen = self.session.overrides.get(self.scene_type.value or "")
        self.text.value = json.dumps(chosen) if chosen else ""

    def __panel__(self) -> pn.Column:
        return pn.Column(
            pn.pane.Markdown("#### Scene-type overrides"),
            self.listing,
            wrapping(self.scene_type, self.save),
            self.text,
            self.error,
            sizing_mode="stretch_width",
        )
