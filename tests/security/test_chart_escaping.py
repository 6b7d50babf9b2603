"""The synthesis pages put the charts' SVG in the page as markup (`Markup`, marked `nosec B704`): that is
safe only because the chart functions escape every text they draw (titles, axis labels, territory names,
series names). A label that carries markup comes out as text: the SVG parses, holds no element but its
own, and its texts and attributes read back as the label given."""

from xml.etree import ElementTree as ET

from services.synthesis.domain.charts import bar_chart, stacked_chart

HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
SVG_ELEMENTS = {"svg", "title", "text", "rect"}


def parsed(svg: str) -> ET.Element:
    root = ET.fromstring(svg)  # noqa: S314 - our own output, parsed to check it
    assert {element.tag.split("}")[-1] for element in root.iter()} <= SVG_ELEMENTS
    return root


def texts(root: ET.Element) -> list[str]:
    return [element.text or "" for element in root.iter()]


def test_bar_chart_escapes_its_title_and_labels():
    root = parsed(bar_chart({HOSTILE: 3, "Sobriété & climat": 1}, HOSTILE))
    assert root.get("aria-label") == HOSTILE
    assert texts(root).count(HOSTILE) == 2  # the title and its heading; the bar's label is cut short
    assert any(text.startswith("<script>alert(1)") and text.endswith("…") for text in texts(root))
    assert "Sobriété & climat" in texts(root)


def test_stacked_chart_escapes_its_title_rows_and_series():
    root = parsed(stacked_chart({HOSTILE: {HOSTILE: 2, "attente": 1}}, [HOSTILE, "attente"], HOSTILE,
                                colours={HOSTILE: "#123456"}))
    assert root.get("aria-label") == HOSTILE
    assert f"{HOSTILE}: 2" in texts(root)  # the bar's tooltip
    assert sum(text.startswith("<script>") for text in texts(root)) == 5  # title, heading, legend, row, tooltip
