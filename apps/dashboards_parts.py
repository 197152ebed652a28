"""The dashboards' building blocks: a lake table made fit to show, as a table or a chart pane,
and the stand-in shown while there is nothing to show yet."""

import pandas as pd
import panel as pn
import pyarrow as pa
from bokeh.plotting import figure

NO_LAKE_DATA = "Press **Refresh** after takes are generated, or run `trulience lake export`."


def shown_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a DataFrame fit to show: times as UTC text, floats rounded."""
    frame = table.to_pandas()
    for column, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M:%S")
        elif pd.api.types.is_float_dtype(dtype):
            frame[column] = frame[column].round(3)
    return frame


def data_table(frame: pd.DataFrame, css_class: str) -> pn.widgets.Tabulator:
    return pn.widgets.Tabulator(
        frame,
        disabled=True,
        show_index=False,
        layout="fit_data_table",
        pagination="local" if len(frame) > 25 else None,
        page_size=25,
        sizing_mode="stretch_width",
        css_classes=[css_class],
    )


def empty_state(what: str, how: str = NO_LAKE_DATA) -> pn.pane.Markdown:
    """The explanatory stand-in for a chart or table with nothing to show yet."""
    return pn.pane.Markdown(f"**{what}** {how}", css_classes=["empty-state"])


def chart_pane(fig: figure, css_class: str) -> pn.pane.Bokeh:
    fig.toolbar.logo = None
    # the pane hands the figure itself to the page: the class goes on the figure
    fig.css_classes = [css_class]
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width")


def full_row(*objects: pn.viewable.Viewable) -> pn.Row:
    return pn.Row(*objects, sizing_mode="stretch_width")
