"""The library page's views (issue 17): the filter bar, the page of characters (each row
linking to its character page, with a box to select it), the pager, and the bulk-edit bar a
producer sees. State: apps/library_state.py."""

import html

import panel as pn

from apps.library_state import LibrarySession
from trulience.catalog.library_pages import READINESS, SORTS, LibraryRow


def wrapping(*objects, **params) -> pn.FlexBox:
    """A row that wraps onto the next line on a narrow screen."""
    return pn.FlexBox(*objects, flex_wrap="wrap", align_items="center", **params)


def character_link(slug: str) -> str:
    """The Studio address of a character's page."""
    return f"?page=character&character={html.escape(slug, quote=True)}"


class FilterBar(pn.viewable.Viewer):
    """Text, tag, readiness, project and sort: each change re-reads page 1."""

    def __init__(self, session: LibrarySession, **params):
        super().__init__(**params)
        self.session = session
        self.text = pn.widgets.TextInput(
            label="Search", placeholder="slug or name", css_classes=["library-text"]
        )
        self.text.param.watch(lambda e: setattr(session, "text", e.new), "value")
        self.tag = pn.widgets.Select(label="Tag", options=[""], css_classes=["library-tag"])
        self.tag.param.watch(lambda e: setattr(session, "tag", e.new), "value")
        self.readiness = pn.widgets.Select(
            label="Readiness", options=list(READINESS), css_classes=["library-readiness"]
        )
        self.readiness.param.watch(lambda e: setattr(session, "readiness", e.new), "value")
        self.project = pn.widgets.Select(
            label="Project", options=[""], css_classes=["library-project"]
        )
        self.project.param.watch(lambda e: setattr(session, "project", e.new), "value")
        self.sort = pn.widgets.Select(
            label="Sort", options=list(SORTS), css_classes=["library-sort"]
        )
        self.sort.param.watch(lambda e: setattr(session, "sort", e.new), "value")
        session.param.watch(lambda e: setattr(self.tag, "options", ["", *e.new]), "tags")
        session.param.watch(lambda e: setattr(self.project, "options", ["", *e.new]), "projects")

    def __panel__(self) -> pn.FlexBox:
        return wrapping(self.text, self.tag, self.readiness, self.project, self.sort)


class RowsView(pn.viewable.Viewer):
    """The page of characters: a row each (select box for a producer, link, readiness,
    images, projects, tags) and the pager."""

    def __init__(self, session: LibrarySession, **params):
        super().__init__(**params)
        self.session = session
        self.list = pn.Column(css_classes=["library-rows"], sizing_mode="stretch_width")
        self.where = pn.pane.HTML("", css_classes=["library-where"])
        self.previous = pn.widgets.Button(label="Previous page", css_classes=["library-previous"])
        self.next = pn.widgets.Button(label="Next page", css_classes=["library-next"])
        self.previous.on_click(lambda _: session.go_to(session.page - 1))
        self.next.on_click(lambda _: session.go_to(session.page + 1))
        session.param.watch(lambda *_: self._follow(), ["rows", "total", "may_edit"])
        session.param.watch(lambda *_: self._checks(), "selected")
        self._boxes: dict[str, pn.widgets.Checkbox] = {}
        self._follow()

    def _follow(self) -> None:
        s = self.session
        self._boxes = {}
        self.list.objects = [self._row(r) for r in s.rows] or [
            pn.pane.Markdown("No character matches.", css_classes=["library-empty"])
        ]
        self.where.object = f"page {s.page + 1} of {s.pages} · {s.total:,} characters"
        self.previous.disabled, self.next.disabled = s.page == 0, s.page >= s.pages - 1

    def _checks(self) -> None:
        for slug, box in self._boxes.items():
            box.value = slug in self.session.selected

    def _row(self, row: LibraryRow) -> pn.FlexBox:
        ready = "ready" if row.ready else "not ready"
        facts = pn.pane.HTML(
            f'<a class="library-open" href="{character_link(row.slug)}">'
            f"{html.escape(row.name)}</a> <code>{html.escape(row.slug)}</code> · "
            f'<span class="library-ready library-{ready.replace(" ", "-")}">{ready}</span> · '
            f"{row.images_passed}/{row.images} images passed · "
            f"{html.escape(', '.join(row.projects) or 'no project')}"
            + "".join(f' <span class="library-chip">{html.escape(t)}</span>' for t in row.tags),
            css_classes=["library-facts"],
        )
        parts: list = [facts]
        if self.session.may_edit:
            box = pn.widgets.Checkbox(
                value=row.slug in self.session.selected, css_classes=["library-select"], width=24
            )
            box.param.watch(lambda e, slug=row.slug: self._chosen(slug, e.new), "value")
            self._boxes[row.slug] = box
            parts.insert(0, box)
        return wrapping(*parts, css_classes=["library-row", f"library-row-{row.slug}"])

    def _chosen(self, slug: str, chosen: bool) -> None:
        if chosen != (slug in self.session.selected):
            self.session.toggle(slug)

    def __panel__(self) -> pn.Column:
        return pn.Column(
            self.list,
            wrapping(self.previous, self.where, self.next),
            sizing_mode="stretch_width",
        )


class BulkBar(pn.viewable.Viewer):
    """A producer's bulk edit: what is selected, a field = value or a tag to add or remove,
    counted first (a dry run), then Apply or Cancel."""

    def __init__(self, session: LibrarySession, **params):
        super().__init__(**params)
        self.session = session
        self.count = pn.pane.HTML("", css_classes=["library-selected"])
        page = pn.widgets.Button(label="Select page", css_classes=["library-select-page"])
        page.on_click(lambda _: session.select_page())
        matching = pn.widgets.Button(
            label="Select all matching", css_classes=["library-select-all"]
        )
        matching.on_click(lambda _: session.select_matching())
        clear = pn.widgets.Button(label="Clear selection", css_classes=["library-clear"])
        clear.on_click(lambda _: session.clear_selection())
        self.field = pn.widgets.TextInput(label="Field", css_classes=["library-bulk-field"])
        self.value = pn.widgets.TextInput(
            label="Value (blank removes)", css_classes=["library-bulk-value"]
        )
        set_field = pn.widgets.Button(
            label="Count field change", css_classes=["library-count-field"]
        )
        set_field.on_click(lambda _: session.preview_field(self.field.value, self.value.value))
        self.tag = pn.widgets.TextInput(label="Tag", css_classes=["library-bulk-tag"])
        add = pn.widgets.Button(label="Count tag add", css_classes=["library-count-add"])
        add.on_click(lambda _: session.preview_tag(self.tag.value, add=True))
        remove = pn.widgets.Button(label="Count tag removal", css_classes=["library-count-remove"])
        remove.on_click(lambda _: session.preview_tag(self.tag.value, add=False))
        self.pending = pn.pane.HTML("", css_classes=["library-pending"])
        self.apply = pn.widgets.Button(
            label="Apply", color="primary", css_classes=["library-apply"]
        )
        self.apply.on_click(lambda _: session.apply_bulk())
        self.cancel = pn.widgets.Button(label="Cancel", css_classes=["library-cancel"])
        self.cancel.on_click(lambda _: session.cancel_bulk())
        self.layout = pn.Column(
            wrapping(self.count, page, matching, clear),
            wrapping(self.field, self.value, set_field, self.tag, add, remove),
            wrapping(self.pending, self.apply, self.cancel),
            css_classes=["library-bulk"],
            sizing_mode="stretch_width",
        )
        session.param.watch(lambda *_: self._follow(), ["selected", "pending", "may_edit"])
        self._follow()

    def _follow(self) -> None:
        s = self.session
        self.layout.visible = s.may_edit
        self.count.object = f"{len(s.selected):,} selected"
        self.pending.object = html.escape(s.pending or "")
        self.apply.visible = self.cancel.visible = s.pending is not None

    def __panel__(self) -> pn.Column:
        return self.layout
