"""The Studio's command palette in the browser (PRD-31): Ctrl+K (Cmd+K) anywhere opens it,
typing searches, up / down move, Enter opens, Esc closes; the header's "Search" button opens
it too. What it finds and does: apps/palette_state.py.

Stable selectors (CSS classes, inside the component): .palette-open (the header button),
.palette-overlay, .palette-input, .palette-results > .palette-result.palette-kind-<kind>
(.palette-selected on the highlighted one; data-key: its slug / take id / action) with
.palette-title and .palette-detail, .palette-empty ("Nothing found").
"""

from typing import Any, ClassVar

import param
from panel.custom import JSComponent

from apps.palette_state import LONGEST, PaletteState


class Palette(JSComponent):
    """The palette's browser side: the overlay, its input and its list of choices."""

    showing = param.Boolean(False)
    query = param.String("")
    rows = param.List([], doc="The choices shown: kind, key, title, detail.")
    selected = param.Integer(0)

    _esm = """
    function make(tag, cls, text) {
      const node = document.createElement(tag)
      if (cls) node.className = cls
      if (text !== undefined) node.textContent = text
      return node
    }

    export function render({ model }) {
      const root = make("span", "palette")
      const opener = make("button", "palette-open", "Search  Ctrl+K")
      const overlay = make("div", "palette-overlay")
      const box = make("div", "palette-box")
      const input = make("input", "palette-input")
      input.placeholder = "Characters, takes, scene types, workflows, projects, actions…"
      input.setAttribute("aria-label", "Command palette")
      const list = make("ul", "palette-results")
      box.append(input, list)
      overlay.append(box)
      root.append(opener, overlay)

      function draw() {
        overlay.style.display = model.showing ? "flex" : "none"
        list.replaceChildren()
        if (!model.rows.length) list.append(make("li", "palette-empty", "Nothing found"))
        model.rows.forEach((row, i) => {
          const kind = row.kind.replace(/ /g, "-")
          const item = make("li", `palette-result palette-kind-${kind}`)
          if (i === model.selected) item.classList.add("palette-selected")
          item.dataset.key = row.key
          item.append(make("span", "palette-title", row.title),
                      make("span", "palette-detail", `${row.kind} · ${row.detail}`))
          item.addEventListener("mousedown", (e) => {
            e.preventDefault()
            model.send_msg({choose: i, query: input.value})
          })
          list.append(item)
        })
        const shown = list.querySelector(".palette-selected")
        if (shown) shown.scrollIntoView({block: "nearest"})
      }

      function open() {
        input.value = ""
        model.send_msg({show: true})
      }

      opener.addEventListener("click", open)
      document.addEventListener("keydown", (e) => {
        if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "k") {
          e.preventDefault()
          open()
        }
      })
      overlay.addEventListener("mousedown", (e) => {
        if (e.target === overlay) model.send_msg({hide: true})
      })
      input.addEventListener("input", () => { model.query = input.value })
      input.addEventListener("keydown", (e) => {
        if (e.key === "ArrowDown" || e.key === "ArrowUp") {
          e.preventDefault()
          model.send_msg({move: e.key === "ArrowDown" ? 1 : -1})
        } else if (e.key === "Enter") {
          e.preventDefault()
          model.send_msg({choose: model.selected, query: input.value})
        } else if (e.key === "Escape") {
          e.preventDefault()
          model.send_msg({hide: true})
        }
      })
      model.on("showing", () => {
        draw()
        if (model.showing) setTimeout(() => input.focus(), 0)
      })
      model.on(["rows", "selected"], draw)
      draw()
      return root
    }
    """

    _stylesheets: ClassVar[list[str]] = [
        """
        .palette-open { background: rgba(255,255,255,0.15); color: white; cursor: pointer;
          border: 1px solid rgba(255,255,255,0.5); border-radius: 4px; padding: 4px 10px;
          font: inherit; white-space: nowrap; }
        .palette-overlay { position: fixed; inset: 0; z-index: 2000; display: none;
          background: rgba(0,0,0,0.35); align-items: flex-start; justify-content: center; }
        .palette-box { margin-top: 12vh; width: min(640px, 92vw); background: white;
          color: #1b1b1f; border-radius: 8px; box-shadow: 0 8px 32px rgba(0,0,0,0.35);
          overflow: hidden; font-family: Roboto, sans-serif; }
        .palette-input { width: 100%; box-sizing: border-box; border: 0; padding: 14px 16px;
          font-size: 17px; outline: none; border-bottom: 1px solid #ddd; }
        .palette-results { list-style: none; margin: 0; padding: 4px 0; max-height: 50vh;
          overflow-y: auto; }
        .palette-result, .palette-empty { padding: 8px 16px; display: flex;
          justify-content: space-between; gap: 12px; cursor: pointer; }
        .palette-empty { color: #666; cursor: default; }
        .palette-selected { background: #e8eefc; }
        .palette-detail { color: #666; font-size: 13px; white-space: nowrap; }
        """
    ]


class PaletteView:
    """The palette wired to its state: the browser's keys and typing go to `PaletteState`,
    its choices come back."""

    def __init__(self, state: PaletteState):
        self.state = state
        self.widget = Palette(margin=(0, 8))
        self.widget.on_msg(lambda event: self._heard(event.data))
        self.widget.param.watch(lambda e: state.type(e.new), "query")
        state.param.watch(lambda *_: self._draw(), ["choices", "selected", "showing"])

    def _draw(self) -> None:
        state = self.state
        self.widget.param.update(
            rows=[choice.as_row() for choice in state.choices],
            selected=state.selected,
            showing=state.showing,
            query=state.query,
        )

    def _heard(self, message: Any) -> None:
        state = self.state
        if not isinstance(message, dict):
            return
        if message.get("show"):
            state.show()
        elif message.get("hide"):
            state.hide()
        elif "move" in message:
            state.move(1 if message["move"] == 1 else -1)
        elif "choose" in message:
            typed = str(message.get("query", state.query))[:LONGEST]
            index = message["choose"] if isinstance(message["choose"], int) else None
            if typed != state.query:  # Enter came before the last keystroke's answer
                state.type(typed)
                index = 0
            state.choose(index)
