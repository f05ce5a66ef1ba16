import Foundation

/// One axis of a plot: a label, a linear or base-10 log scale, and a range.
struct PlotAxis {
    enum Scale { case linear, log }
    var label: String
    var scale: Scale = .linear
    var lower: Double
    var upper: Double

    /// Where `v` falls along the axis, 0 at `lower` to 1 at `upper` (values are clamped).
    func fraction(_ v: Double) -> Double {
        switch scale {
        case .linear:
            return upper > lower ? min(max((v - lower) / (upper - lower), 0), 1) : 0.5
        case .log:
            let lv = log10(max(v, lower))
            return min(max((lv - log10(lower)) / (log10(upper) - log10(lower)), 0), 1)
        }
    }

    /// Labelled ticks: 1-2-5 steps on a linear axis, decades on a log axis.
    func majorTicks(target: Int = 6) -> [(value: Double, label: String)] {
        switch scale {
        case .linear:
            let span = upper - lower
            guard span > 0 else { return [(lower, ReportFormat.score.string(lower))] }
            let raw = span / Double(target)
            let magnitude = pow(10, (log10(raw)).rounded(.down))
            let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
            let decimals = max(0, Int(-(log10(step)).rounded(.down)))
            var ticks: [(Double, String)] = []
            var k = (lower / step).rounded(.up)
            while k * step <= upper + step * 1e-9 {
                let v = k * step
                ticks.append((v, String(format: "%.\(decimals)f", abs(v) < step * 1e-9 ? 0 : v)))
                k += 1
            }
            return ticks
        case .log:
            let first = Int(log10(lower).rounded(.up)), last = Int(log10(upper).rounded(.down))
            guard first <= last else { return [] }
            return (first...last).map { e in
                let v = pow(10, Double(e))
                return (v, e >= -3 ? (e >= 0 ? String(format: "%.0f", v) : String(format: "%.\(-e)f", v)) : "1e\(e)")
            }
        }
    }

    /// Unlabelled minor ticks (2..9 times each decade) on a log axis.
    func minorTicks() -> [Double] {
        guard scale == .log else { return [] }
        var out: [Double] = []
        var decade = pow(10, log10(lower).rounded(.down))
        while decade < upper {
            for m in 2...9 {
                let v = Double(m) * decade
                if v > lower && v < upper { out.append(v) }
            }
            decade *= 10
        }
        return out
    }
}

/// A line of a plot.
struct PlotLine {
    var name: String
    var points: [(x: Double, y: Double)]
    var color: String
    var dash: String? = nil
    var width: Double = 2
    var markers: Bool = false
}

/// A histogram of a plot: bin edges (count + 1) and one height per bin, drawn as a filled step.
struct PlotHistogram {
    var name: String
    var edges: [Double]
    var heights: [Double]
    var color: String
}

/// A small SVG chart writer: axes with ticks and labels, grid, lines, histograms, legend.
///
/// Everything is drawn in user units inside a `viewBox`, so the chart scales with the page.
/// Lines are thinned in screen space (points closer than a third of a unit to the last kept
/// one are dropped), so a 20,000-point ROC curve stays a small path.
struct SVGPlot {
    enum LegendPlace { case bottomRight, topRight, topLeft }
    var id: String
    var title: String
    var x: PlotAxis
    var y: PlotAxis
    var width = 520.0
    var height = 400.0
    var lines: [PlotLine] = []
    var histograms: [PlotHistogram] = []
    var diagonal = false
    var legend: LegendPlace = .bottomRight

    private let left = 62.0, right = 18.0, top = 34.0, bottom = 50.0
    private var plotWidth: Double { width - left - right }
    private var plotHeight: Double { height - top - bottom }

    init(id: String, title: String, x: PlotAxis, y: PlotAxis) {
        self.id = id
        self.title = title
        self.x = x
        self.y = y
    }

    private func px(_ v: Double) -> Double { left + x.fraction(v) * plotWidth }
    private func py(_ v: Double) -> Double { top + (1 - y.fraction(v)) * plotHeight }
    private func f(_ v: Double) -> String { String(format: "%.1f", v) }

    func render() -> String {
        var s =
            "<svg class=\"plot\" id=\"\(escapeHTML(id))\" "
            + "viewBox=\"0 0 \(f(width)) \(f(height))\" role=\"img\" aria-label=\"\(escapeHTML(title))\">"
        s += "<title>\(escapeHTML(title))</title>"
        s +=
            "<defs><clipPath id=\"\(escapeHTML(id))-clip\"><rect x=\"\(f(left))\" y=\"\(f(top))\" "
            + "width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\"/></clipPath></defs>"
        s += "<text class=\"title\" x=\"\(f(left))\" y=\"20\">\(escapeHTML(title))</text>"
        s +=
            "<rect class=\"frame\" x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plotWidth))\" height=\"\(f(plotHeight))\"/>"
        s += axes()
        s += "<g clip-path=\"url(#\(escapeHTML(id))-clip)\">"
        if diagonal {
            let lo = max(x.lower, y.lower), hi = min(x.upper, y.upper)
            s += "<path class=\"chance\" d=\"M\(f(px(lo))),\(f(py(lo))) L\(f(px(hi))),\(f(py(hi)))\"/>"
        }
        for h in histograms { s += histogramPath(h) }
        for line in lines { s += linePath(line) }
        s += "</g>"
        s += legendBox()
        return s + "</svg>"
    }

    private func axes() -> String {
        var s = "<g class=\"axes\">"
        for v in x.minorTicks() {
            s +=
                "<line class=\"tick\" x1=\"\(f(px(v)))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(px(v)))\" y2=\"\(f(top + plotHeight + 3))\"/>"
        }
        for v in y.minorTicks() {
            s += "<line class=\"tick\" x1=\"\(f(left - 3))\" y1=\"\(f(py(v)))\" x2=\"\(f(left))\" y2=\"\(f(py(v)))\"/>"
        }
        for (v, label) in x.majorTicks() {
            let p = px(v)
            s += "<line class=\"grid\" x1=\"\(f(p))\" y1=\"\(f(top))\" x2=\"\(f(p))\" y2=\"\(f(top + plotHeight))\"/>"
            s +=
                "<line class=\"tick\" x1=\"\(f(p))\" y1=\"\(f(top + plotHeight))\" x2=\"\(f(p))\" y2=\"\(f(top + plotHeight + 6))\"/>"
            s +=
                "<text class=\"ticklabel\" x=\"\(f(p))\" y=\"\(f(top + plotHeight + 19))\" text-anchor=\"middle\">\(escapeHTML(label))</text>"
        }
        for (v, label) in y.majorTicks() {
            let p = py(v)
            s += "<line class=\"grid\" x1=\"\(f(left))\" y1=\"\(f(p))\" x2=\"\(f(left + plotWidth))\" y2=\"\(f(p))\"/>"
            s += "<line class=\"tick\" x1=\"\(f(left - 6))\" y1=\"\(f(p))\" x2=\"\(f(left))\" y2=\"\(f(p))\"/>"
            s +=
                "<text class=\"ticklabel\" x=\"\(f(left - 9))\" y=\"\(f(p + 4))\" text-anchor=\"end\">\(escapeHTML(label))</text>"
        }
        s +=
            "<text class=\"axislabel\" x=\"\(f(left + plotWidth / 2))\" y=\"\(f(height - 10))\" text-anchor=\"middle\">\(escapeHTML(x.label))</text>"
        s +=
            "<text class=\"axislabel\" transform=\"translate(15,\(f(top + plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escapeHTML(y.label))</text>"
        return s + "</g>"
    }

    private func linePath(_ line: PlotLine) -> String {
        var d = "", lastX = -1e9, lastY = -1e9
        var kept: [(Double, Double)] = []
        for (k, point) in line.points.enumerated() where point.x.isFinite && point.y.isFinite {
            let (a, b) = (px(point.x), py(point.y))
            let isLast = k == line.points.count - 1
            if !isLast && abs(a - lastX) < 0.33 && abs(b - lastY) < 0.33 { continue }
            d += (d.isEmpty ? "M" : "L") + f(a) + "," + f(b)
            lastX = a
            lastY = b
            kept.append((a, b))
        }
        guard !d.isEmpty else { return "" }
        let dash = line.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
        var s = "<path class=\"series\" d=\"\(d)\" stroke=\"\(line.color)\" stroke-width=\"\(line.width)\"\(dash)/>"
        if line.markers {
            for (a, b) in kept { s += "<circle cx=\"\(f(a))\" cy=\"\(f(b))\" r=\"3\" fill=\"\(line.color)\"/>" }
        }
        return s
    }

    private func histogramPath(_ h: PlotHistogram) -> String {
        guard h.heights.count + 1 == h.edges.count, !h.heights.isEmpty else { return "" }
        let base = py(y.lower)
        var d = "M\(f(px(h.edges[0]))),\(f(base))"
        for (k, height) in h.heights.enumerated() {
            d += "L\(f(px(h.edges[k]))),\(f(py(height)))L\(f(px(h.edges[k + 1]))),\(f(py(height)))"
        }
        d += "L\(f(px(h.edges.last!))),\(f(base))Z"
        return "<path class=\"hist\" d=\"\(d)\" fill=\"\(h.color)\" stroke=\"\(h.color)\"/>"
    }

    private func legendBox() -> String {
        var entries: [(name: String, color: String, dash: String?, filled: Bool)] =
            histograms.map { ($0.name, $0.color, nil, true) }
        entries += lines.map { ($0.name, $0.color, $0.dash, false) }
        if diagonal { entries.append(("chance", "#8a8a8a", "4 4", false)) }
        guard !entries.isEmpty else { return "" }
        let rowHeight = 17.0
        let longest = entries.map(\.name.count).max() ?? 0
        let boxWidth = min(plotWidth - 12, 40 + Double(longest) * 6.6)
        let boxHeight = Double(entries.count) * rowHeight + 8
        let bx: Double, by: Double
        switch legend {
        case .bottomRight: bx = left + plotWidth - boxWidth - 8; by = top + plotHeight - boxHeight - 8
        case .topRight: bx = left + plotWidth - boxWidth - 8; by = top + 8
        case .topLeft: bx = left + 8; by = top + 8
        }
        var s =
            "<g class=\"legend\"><rect x=\"\(f(bx))\" y=\"\(f(by))\" width=\"\(f(boxWidth))\" height=\"\(f(boxHeight))\" rx=\"3\"/>"
        for (k, e) in entries.enumerated() {
            let cy = by + 4 + rowHeight * (Double(k) + 0.5)
            if e.filled {
                s +=
                    "<rect x=\"\(f(bx + 8))\" y=\"\(f(cy - 5))\" width=\"20\" height=\"10\" fill=\"\(e.color)\" fill-opacity=\"0.35\" stroke=\"\(e.color)\"/>"
            } else {
                let dash = e.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
                s +=
                    "<line x1=\"\(f(bx + 8))\" y1=\"\(f(cy))\" x2=\"\(f(bx + 28))\" y2=\"\(f(cy))\" stroke=\"\(e.color)\" stroke-width=\"2.5\"\(dash)/>"
            }
            s += "<text x=\"\(f(bx + 34))\" y=\"\(f(cy + 4))\">\(escapeHTML(e.name))</text>"
        }
        return s + "</g>"
    }
}

/// Okabe & Ito's palette, distinguishable with the common colour-vision deficiencies
/// (yellow left out: too pale on white).
let colorBlindPalette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
/// Dash patterns that take over when attacks outnumber the palette.
let dashPatterns: [String?] = [nil, "7 3", "2 3", "9 3 2 3"]
/// Colour for members in score plots.
let memberColor = "#D55E00"
/// Colour for non-members in score plots.
let nonMemberColor = "#0072B2"
