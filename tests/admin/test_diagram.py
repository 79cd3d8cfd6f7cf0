"""The SVG embedded in admin pages carries drawing only: no script, style or link survives."""

from __future__ import annotations

from bs4 import BeautifulSoup

from intake.workflow.diagram import clean_svg

HOSTILE = """<?xml version="1.0"?>
<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">
<!-- a comment -->
<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink"
     width="10pt" height="10pt" viewBox="0 0 10 10" onload="alert(1)" style="x">
<style>svg { display: none }</style>
<script>alert(2)</script>
<g id="node1" class="node" onclick="alert(3)">
  <title>a</title>
  <a xlink:href="javascript:alert(4)"><text>link</text></a>
  <foreignObject><div>html</div></foreignObject>
  <text x="1" y="2" font-size="14" style="fill:red">Family &lt;contact&gt;</text>
  <path d="M0,0L1,1" fill="none" stroke="black"/>
</g>
</svg>"""


def test_only_drawing_elements_and_attributes_survive() -> None:
    cleaned = clean_svg(HOSTILE)
    soup = BeautifulSoup(cleaned, "html.parser")
    names = {tag.name for tag in soup.find_all(True)}
    assert names == {"svg", "g", "title", "text", "path"}
    attributes = {name for tag in soup.find_all(True) for name in tag.attrs}
    assert not {a for a in attributes if a.startswith("on") or a in ("style", "href", "id")}
    assert "xlink" not in cleaned and "alert" not in cleaned and "<!--" not in cleaned
    assert soup.find("text").get_text() == "Family <contact>"
    assert "Family &lt;contact&gt;" in cleaned  # still escaped as markup
