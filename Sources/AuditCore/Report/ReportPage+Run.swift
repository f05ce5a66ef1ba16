import Foundation

extension ReportPage {
    /// Stage timings, memory, plugins, the config as run.
    mutating func runSection() {
        html += "<section id=\"run\"><h2>The run</h2>"
        if !summary.stageSeconds.isEmpty {
            html += "<h3>Time per stage</h3><div class=\"twocol\"><div>" + stagePlot() + "</div><div>"
            var rows = summary.stageSeconds.enumerated().map { k, s -> [String] in
                [
                    escapeHTML(s.stage),
                    metricSpan(s.seconds, .seconds, path: ["stage_seconds", "\(k)", "seconds"]) + " s",
                ]
            }
            rows.append([
                "<strong>total</strong>",
                "<strong>" + metricSpan(summary.totalSeconds, .seconds, path: ["total_seconds"]) + " s</strong>",
            ])
            html += htmlTable(header: ["Stage", "Wall time"], rows: rows) + "</div></div>"
        }
        html +=
            "<p>Peak resident memory: "
            + metricSpan(Double(summary.peakMemoryBytes), .mebibytes, path: ["peak_memory_bytes"]) + " MiB.</p>"
        if let blas = summary.blas { html += blasParagraph(blas) }
        if !summary.plugins.isEmpty {
            html += "<h3>Plugins used</h3>"
            html += htmlTable(
                header: ["Plugin", "Version", "Component", "Library"],
                rows: summary.plugins.map {
                    [
                        escapeHTML($0.name), escapeHTML($0.version),
                        escapeHTML($0.component), "<code>\(escapeHTML($0.path))</code>",
                    ]
                },
                numericFrom: 99)
        }
        html += "<h3>Config as run</h3><pre>\(escapeHTML(summary.configYAML))</pre>"
        html +=
            "<p class=\"note\">Tool version \(escapeHTML(summary.toolVersion)); run started \(escapeHTML(summary.createdAt)).</p>"
        html += "</section>"
    }

    /// The BLAS the run computed on: library, kernel and who chose it, threads, measured sgemm
    /// rate; and the vector level of the C kernels.
    func blasParagraph(_ blas: BLASSummary) -> String {
        "<p id=\"blas\">BLAS: \(escapeHTML(blas.kernelLine)); "
            + metricSpan(Double(blas.threads), .count, path: ["blas", "threads"]) + " threads, sgemm "
            + metricSpan(blas.gflops, .count, path: ["blas", "gflops"]) + " GFLOP/s on \(escapeHTML(blas.cpu))"
            + (blas.vectorLevel.map { "; the C kernels at vector level \(escapeHTML($0))" } ?? "")
            + ".</p>"
    }

    /// Horizontal bars, one per stage.
    func stagePlot() -> String {
        let stages = summary.stageSeconds
        let longest = max(stages.map(\.seconds).max() ?? 1, 1e-9)
        let rowHeight = 24.0, labelWidth = 150.0, barArea = 300.0
        let height = Double(stages.count) * rowHeight + 12
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var s =
            "<svg class=\"plot\" id=\"stages\" viewBox=\"0 0 \(f(labelWidth + barArea + 70)) \(f(height))\" role=\"img\" "
            + "aria-label=\"Wall time per stage\"><title>Wall time per stage</title>"
        for (k, stage) in stages.enumerated() {
            let y = 6 + Double(k) * rowHeight
            let w = max(1, stage.seconds / longest * barArea)
            s +=
                "<text x=\"\(f(labelWidth - 8))\" y=\"\(f(y + 15))\" text-anchor=\"end\">\(escapeHTML(stage.stage))</text>"
            s +=
                "<path class=\"bar\" d=\"M\(f(labelWidth)),\(f(y + 3))h\(f(w))v16h\(f(-w))Z\" fill=\"\(colorBlindPalette[0])\"/>"
            s +=
                "<text class=\"ticklabel\" x=\"\(f(labelWidth + w + 6))\" y=\"\(f(y + 15))\">\(escapeHTML(ReportFormat.seconds.string(stage.seconds))) s</text>"
        }
        return s + "</svg>"
    }
}
