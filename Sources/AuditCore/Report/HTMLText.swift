import Foundation

/// Escapes text for HTML element content and attribute values (`& < > " '`).
func escapeHTML(_ text: String) -> String {
    var out = ""
    out.reserveCapacity(text.utf8.count)
    for ch in text.unicodeScalars {
        switch ch {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&#39;"
        default: out.unicodeScalars.append(ch)
        }
    }
    return out
}

/// How the report spells numbers. `metrics.json` holds full precision; the report shows the same
/// values rounded by exactly these rules, and each shown value carries its JSON path in a
/// `data-metric` attribute and its rule in `data-format`, so a test can check one against the other.
enum ReportFormat: String, Sendable {
    /// Rates, AUC, accuracies, intervals: 4 decimals ("0.5123").
    case metric
    /// Durations: 2 decimals, unit added by the caller.
    case seconds
    /// Whole counts.
    case count
    /// Scores and thresholds, whose scale depends on the attack: 4 significant digits, trailing
    /// zeros kept ("5.380", "-7.722e-05").
    case score
    /// A byte count shown in MiB (2^20 bytes), 1 decimal.
    case mebibytes

    /// `value` spelled by this rule. Non-finite values read "inf", "-inf", "nan".
    func string(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value > 0 ? "inf" : "-inf" }
        switch self {
        case .metric: return String(format: "%.4f", value)
        case .seconds: return String(format: "%.2f", value)
        case .count: return String(format: "%.0f", value)
        case .score: return String(format: "%#.4g", value)
        case .mebibytes: return String(format: "%.1f", value / 1_048_576)
        }
    }
}

/// A JSON Pointer (RFC 6901) to a value of `metrics.json`, built from its path components.
func jsonPointer(_ components: [String]) -> String {
    components.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
        .joined()
}

/// A `<span>` showing a number of `metrics.json`, tagged with its JSON pointer and format.
func metricSpan(_ value: Double, _ format: ReportFormat, path: [String]) -> String {
    "<span class=\"num\" data-metric=\"\(escapeHTML(jsonPointer(path)))\" data-format=\"\(format.rawValue)\">"
        + escapeHTML(format.string(value)) + "</span>"
}

/// A value and its interval: "0.5123 <small>[0.5010, 0.5231]</small>", every number tagged.
func metricWithInterval(_ value: Double, _ ci: ConfidenceInterval?, path: [String], ciPath: [String]) -> String {
    var s = metricSpan(value, .metric, path: path)
    if let ci {
        s +=
            " <span class=\"ci\">[" + metricSpan(ci.lower, .metric, path: ciPath + ["lower"]) + ", "
            + metricSpan(ci.upper, .metric, path: ciPath + ["upper"]) + "]</span>"
    }
    return s
}

/// A table: header cells (escaped) and rows of already-built HTML cells.
func htmlTable(header: [String], rows: [[String]], numericFrom: Int = 1, className: String = "data") -> String {
    var s = "<table class=\"\(className)\"><thead><tr>"
    for (k, h) in header.enumerated() {
        s += k >= numericFrom ? "<th class=\"r\">\(escapeHTML(h))</th>" : "<th>\(escapeHTML(h))</th>"
    }
    s += "</tr></thead><tbody>"
    for row in rows {
        s += "<tr>"
        for (k, cell) in row.enumerated() {
            s += k >= numericFrom ? "<td class=\"r\">\(cell)</td>" : "<td>\(cell)</td>"
        }
        s += "</tr>"
    }
    return s + "</tbody></table>"
}
