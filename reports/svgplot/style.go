package svgplot

// CSS styles the classes the chart frame uses (axes, ticks, labels, title,
// legend, censored band, rules, points beyond a bound). A page includes it
// once; the classes of marks are the page's own.
const CSS = `svg.plot{width:100%;height:auto;display:block;font:11px system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;overflow:visible}
svg.plot text{fill:#222}
svg.plot .title{font-weight:600;font-size:12.5px}
svg.plot .tick,svg.plot .legend text{fill:#444}
svg.plot .label{fill:#333}
svg.plot .grid{stroke:#e4e4e4;stroke-width:1}
svg.plot .axis{stroke:#888;stroke-width:1}
svg.plot .hatch-bg{fill:#fbecea}
svg.plot .hatch{stroke:#e2aaa3;stroke-width:2}
svg.plot .censored{stroke:#c0392b;stroke-width:1;stroke-dasharray:3 2}
svg.plot .legend rect.censored{fill:#fbecea}
svg.plot .band-label{fill:#9b2c20;font-weight:600;paint-order:stroke;stroke:#fff;stroke-width:3px;stroke-linejoin:round}
svg.plot .rule-label{font-size:10px}
svg.plot .note{fill:#9b2c20;font-size:10.5px}
svg.plot .beyond{fill:#c0392b}
`
