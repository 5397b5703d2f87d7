"""One module per report section; each section function takes the
:class:`~gapwatch.report.context.ReportContext` and returns the section(s) it adds.

* :mod:`.statement`: the annual statement's duty and scope (annual template first);
* :mod:`.summary`: the executive summary (alerts and largest gaps) and the Alerts sheet;
* :mod:`.indicators`: one section per domain, one sub-section per indicator, built by
  :mod:`.board_indicator` or :mod:`.annual_indicator` from the parts in :mod:`.indicators`;
* :mod:`.data_quality`: completeness of the fields gaps depend on;
* :mod:`.targets`, :mod:`.business_case`, :mod:`.core20plus5`, :mod:`.methods`.

Shared table helpers are in :mod:`.common`. :mod:`gapwatch.report.build` lists which
sections each template has, in order.
"""
