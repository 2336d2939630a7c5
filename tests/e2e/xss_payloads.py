"""Payloads that try to run script wherever learner- or trainer-written text is shown. Each one,
if it ran, would leave a trace the test looks for: a dialog (alert/confirm/prompt), the flag
`window.__xss`, or a request to a path starting with /xss. Written for this project."""

from __future__ import annotations

__all__ = ["PAYLOADS", "TEMPLATE_RESULT"]

TEMPLATE_RESULT = "9359"  # 7 * 1337: what a template engine would print for the injections below

PAYLOADS: list[str] = [
    # script elements
    "<script>window.__xss=1;alert(1)</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<script src=\"/xss-hit.js\"></script>",
    "<script>fetch('/xss-hit')</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>script>alert(1)<</script>/script>",
    "<script/x>alert(1)</script>",
    "<template><script>alert(1)</script></template>",
    # event handlers
    "<img src=x onerror=alert(1)>",
    "<img src=\"x\" onerror=\"window.__xss=1\">",
    "<IMG SRC=x OnErRoR=alert(1)>",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;&#40;&#49;&#41;>",
    "<img src=x onerror=\"fetch('/xss-hit')\">",
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    "<svg onload=alert(1)>",
    "<svg/onload=fetch('/xss-hit')>",
    "<svg><script>alert(1)</script></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><a xlink:href=\"javascript:alert(1)\"><text x=\"20\" y=\"20\">bấm</text></a></svg>",
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)>",
    "<details open ontoggle=\"window.__xss=1\"><summary>x</summary></details>",
    "<input autofocus onfocus=alert(1)>",
    "<marquee onstart=alert(1)>x</marquee>",
    "<video><source onerror=alert(1)></video>",
    "<audio src=x onerror=alert(1)>",
    "<x onclick=alert(1)>x</x>",
    "<a href=\"https://example.vn\" onclick=\"alert(1)\">liên kết</a>",
    "<p style=\"position:fixed;inset:0\" onmouseover=alert(1)>che trang</p>",
    # javascript:, data: and vbscript: URLs
    "<a href=\"javascript:alert(1)\">bấm</a>",
    "<a href=\"JaVaScRiPt:alert(1)\">bấm</a>",
    "<a href=\"jav&#x09;ascript:alert(1)\">bấm</a>",
    "<a href=\"&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)\">bấm</a>",
    "<a href=\" javascript:alert(1)\">bấm</a>",
    "<a href=\"data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==\">bấm</a>",
    "<a href=\"vbscript:msgbox(1)\">bấm</a>",
    "<img src=\"javascript:alert(1)\">",
    "<img src=\"data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+\" alt=\"a\">",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<iframe srcdoc=\"<script>parent.__xss=1</script>\"></iframe>",
    "<iframe srcdoc=\"&lt;img src=x onerror=parent.alert(1)&gt;\"></iframe>",
    "<object data=\"javascript:alert(1)\"></object>",
    "<embed src=\"javascript:alert(1)\">",
    "<form action=\"javascript:alert(1)\"><button>gửi</button></form>",
    "<button formaction=\"javascript:alert(1)\">gửi</button>",
    "<base href=\"javascript:alert(1)//\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=/xss-hit\">",
    "<table background=\"javascript:alert(1)\"><tr><td>x</td></tr></table>",
    # style and CSS expressions
    "<div style=\"background:url(javascript:alert(1))\">x</div>",
    "<div style=\"width:expression(alert(1))\">x</div>",
    "<style>@import '/xss-hit.css';</style>",
    "<link rel=\"stylesheet\" href=\"/xss-hit.css\">",
    # broken tags, comments, parser confusion (mutation XSS)
    "<img src=x onerror=alert(1)//",
    "\"><script>alert(1)</script>",
    "'><img src=x onerror=alert(1)>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "<!--<img src=\"--><img src=x onerror=alert(1)//\">",
    "<![CDATA[<script>alert(1)</script>]]>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\">",
    "<select><template><style><img src=x onerror=alert(1)></style></template></select>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    # Markdown links and images
    "[bấm vào đây](javascript:alert(1))",
    "[bấm](JAVASCRIPT:alert(1))",
    "[bấm](javascript&#58;alert(1))",
    "[bấm](data:text/html,<script>alert(1)</script>)",
    "[bấm](<javascript:alert(1)>)",
    "![ảnh](javascript:alert(1))",
    "![ảnh](x\" onerror=\"alert(1))",
    "<javascript:alert(1)>",
    # template injection
    "{{7*1337}}",
    "{{ config }} {% print(7*1337) %}",
    "${7*1337} #{7*1337}",
]
