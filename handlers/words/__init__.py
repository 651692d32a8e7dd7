"""Words shared by conversations and notices: gettext catalogs (i18n), rendering of cases and
times (render), figures text (figures), charts (charts), and the notice base (notice: Notice,
@notice) that each capability's notices register into.
"""

__all__ = [
    "charts",
    "figures",
    "i18n",
    "notice",
    "render",
]
