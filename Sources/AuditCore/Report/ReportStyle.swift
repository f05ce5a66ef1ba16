/// The report's stylesheet: system fonts only, readable on a laptop, and print-friendly
/// (white background, no shadows, sections kept whole across pages).
let reportStyle = """
    :root { --ink: #1d232b; --muted: #5b6570; --line: #d9dee3; --soft: #f4f6f8; --accent: #0072B2; }
    * { box-sizing: border-box; }
    html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", sans-serif;
           color: var(--ink); background: #fff; font-size: 15px; line-height: 1.45; }
    body { max-width: 1120px; margin: 0 auto; padding: 28px 28px 60px; }
    h1 { font-size: 1.7rem; margin: 0 0 4px; letter-spacing: -0.01em; }
    h2 { font-size: 1.25rem; margin: 36px 0 12px; padding-bottom: 6px; border-bottom: 2px solid var(--ink); }
    h3 { font-size: 1.05rem; margin: 26px 0 8px; }
    p { margin: 6px 0; }
    figure { margin: 0; }
    .meta { color: var(--muted); font-size: 0.9rem; }
    .meta span + span::before { content: "·"; margin: 0 8px; color: var(--line); }
    .cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 12px; margin: 18px 0; }
    .card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; background: var(--soft); }
    .card .label { color: var(--muted); font-size: 0.78rem; text-transform: uppercase; letter-spacing: 0.05em; }
    .card .value { font-size: 1.45rem; font-weight: 600; font-variant-numeric: tabular-nums; }
    .card .sub { color: var(--muted); font-size: 0.85rem; }
    .card.strong { border-color: var(--accent); background: #eef6fb; }
    table { border-collapse: collapse; margin: 8px 0 14px; font-size: 0.88rem; }
    table.data { width: 100%; }
    th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
    th { font-weight: 600; background: var(--soft); border-bottom: 1px solid #b9c1c9; }
    td code { overflow-wrap: anywhere; }
    td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; }
    tbody tr:hover { background: #fafbfc; }
    .ci { color: var(--muted); font-size: 0.86em; white-space: nowrap; }
    .num { font-variant-numeric: tabular-nums; }
    table.confusion td, table.confusion th { text-align: center; min-width: 110px; }
    .plots { display: flex; flex-wrap: wrap; gap: 16px; }
    .plots figure { margin: 0; flex: 1 1 460px; max-width: 540px; }
    figure figcaption { color: var(--muted); font-size: 0.82rem; margin-top: 2px; }
    svg.plot { width: 100%; height: auto; display: block; }
    svg.plot text { font-family: inherit; font-size: 12px; fill: var(--ink); }
    svg.plot .title { font-size: 13px; font-weight: 600; }
    svg.plot .ticklabel { fill: var(--muted); font-size: 11px; font-variant-numeric: tabular-nums; }
    svg.plot .axislabel { font-size: 12px; }
    svg.plot .frame { fill: none; stroke: #9aa4ae; stroke-width: 1; }
    svg.plot .grid { stroke: #e8ebee; stroke-width: 1; }
    svg.plot .tick { stroke: #9aa4ae; stroke-width: 1; }
    svg.plot .chance { stroke: #8a8a8a; stroke-width: 1.2; stroke-dasharray: 4 4; fill: none; }
    svg.plot .series { fill: none; stroke-linejoin: round; stroke-linecap: round; }
    svg.plot .hist { fill-opacity: 0.28; stroke-width: 1; stroke-opacity: 0.9; }
    svg.plot .legend rect:first-child { fill: #fff; fill-opacity: 0.92; stroke: var(--line); }
    .attack { border-top: 1px solid var(--line); padding-top: 4px; }
    .twocol { display: flex; flex-wrap: wrap; gap: 24px; align-items: flex-start; }
    .twocol > div { flex: 1 1 320px; }
    .twocol > div.wide { flex: 1.4 1 460px; }
    table.compact { min-width: 360px; }
    pre { background: var(--soft); border: 1px solid var(--line); border-radius: 6px; padding: 12px 14px;
          font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace;
          font-size: 0.82rem; overflow-x: auto; white-space: pre-wrap; }
    code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", monospace; font-size: 0.9em; }
    .note { color: var(--muted); font-size: 0.85rem; }
    footer { margin-top: 40px; color: var(--muted); font-size: 0.8rem; border-top: 1px solid var(--line); padding-top: 10px; }
    @media print {
      html { font-size: 11pt; }
      body { max-width: none; padding: 0; }
      section, figure, table, .cards { break-inside: avoid; page-break-inside: avoid; }
      h2 { break-after: avoid; }
      tbody tr:hover { background: none; }
      .card.strong { background: #fff; }
    }
    """
