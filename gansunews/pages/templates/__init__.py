"""One page object per article template: a class with the test that says when it applies (`applies()`) and a
method per field. An article page tries `TEMPLATES` in order and reads its fields with the first that applies and
finds a body; `Generic` reads any page none of them fits. A new template is a module here and its place in
`TEMPLATES`."""

from gansunews.pages.templates.a import TemplateA
from gansunews.pages.templates.b import TemplateB
from gansunews.pages.templates.base import Fields, Template, has_class
from gansunews.pages.templates.c import TemplateC
from gansunews.pages.templates.generic import Generic
from gansunews.pages.templates.meta import MetaTags

TEMPLATES: tuple[type[Template], ...] = (TemplateA, TemplateB, TemplateC, MetaTags)

__all__ = ["TEMPLATES", "Fields", "Generic", "Template", "has_class"]
