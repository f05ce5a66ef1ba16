import Foundation
import Testing

@testable import AuditCore

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Checks that every start tag has its end tag, in order. Returns the first problem, or nil.
/// Understands `<!...>` declarations, comments, self-closing tags and quoted attribute values;
/// raw text inside <style> is skipped.
func tagBalanceProblem(_ html: String) -> String? {
    var stack: [String] = []
    let chars = Array(html.unicodeScalars)
    var i = 0
    func word(from start: Int) -> (String, Int) {
        var j = start, name = ""
        while j < chars.count, chars[j] != " ", chars[j] != ">", chars[j] != "/", chars[j] != "\n" {
            name.unicodeScalars.append(chars[j]); j += 1
        }
        return (name, j)
    }
    while i < chars.count {
        guard chars[i] == "<" else { i += 1; continue }
        if i + 1 < chars.count, chars[i + 1] == "!" {  // declaration or comment
            while i < chars.count, chars[i] != ">" { i += 1 }
            continue
        }
        let closing = i + 1 < chars.count && chars[i + 1] == "/"
        let (name, afterName) = word(from: i + (closing ? 2 : 1))
        guard !name.isEmpty else { return "empty tag name at \(i)" }
        var j = afterName, quote: Unicode.Scalar? = nil
        while j < chars.count {
            if let q = quote {
                if chars[j] == q { quote = nil }
            } else if chars[j] == "\"" || chars[j] == "'" {
                quote = chars[j]
            } else if chars[j] == ">" {
                break
            }
            j += 1
        }
        guard j < chars.count else { return "unterminated tag <\(name)" }
        let selfClosing = chars[j - 1] == "/"
        if closing {
            guard stack.last == name else { return "</\(name)> closes <\(stack.last ?? "nothing")>" }
            stack.removeLast()
        } else if !selfClosing {
            stack.append(name)
            if name == "style" {  // skip raw text up to </style>
                let end = Array("</style>".unicodeScalars)
                var k = j + 1
                while k + end.count <= chars.count, Array(chars[k..<(k + end.count)]) != end { k += 1 }
                guard k + end.count <= chars.count else { return "unterminated <style>" }
                j = k - 1
            }
        }
        i = j + 1
    }
    return stack.isEmpty ? nil : "unclosed <\(stack.last!)>"
}

/// The value at a JSON pointer (RFC 6901) in a JSONSerialization object.
func value(at pointer: String, in root: Any) -> Any? {
    var node: Any? = root
    for raw in pointer.split(separator: "/", omittingEmptySubsequences: false).dropFirst() {
        let key = raw.replacingOccurrences(of: "~1", with: "/").replacingOccurrences(of: "~0", with: "~")
        if let object = node as? [String: Any] {
            node = object[key]
        } else if let array = node as? [Any], let k = Int(key), array.indices.contains(k) {
            node = array[k]
        } else {
            return nil
        }
    }
    return node
}

/// The test's own spelling of each number format (written apart from `ReportFormat`).
func expectedText(_ number: Double, format: String) -> String? {
    switch format {
    case "metric": return String(format: "%.4f", number)
    case "seconds": return String(format: "%.2f", number)
    case "count": return String(Int(number))
    case "score": return String(format: "%#.4g", number)
    case "mebibytes": return String(format: "%.1f", number / 1024 / 1024)
    default: return nil
    }
}

@Suite("HTML report")
struct ReportTests {
    static let fixture = ReportFixture.make()
    static let page = fixture.html()

    @Test("Well-formed: tags balance and an XML parser accepts it")
    func wellFormed() {
        #expect(tagBalanceProblem(Self.page) == nil)
        #expect(tagBalanceProblem("<p><b></p></b>") != nil)  // the checker catches a mismatch
        #expect(tagBalanceProblem("<div><p>x</p>") != nil)
        let parser = XMLParser(data: Data(Self.page.utf8))
        let ok = parser.parse()
        #expect(ok && parser.parserError == nil, "XML parser: \(String(describing: parser.parserError))")
    }

    @Test("Self-contained: no URL, no script, no external resource")
    func selfContained() {
        let lower = Self.page.lowercased()
        for banned in ["http://", "https://", "src=", "<script", "@import", "<link", "//fonts", "<iframe", "<img"] {
            #expect(!lower.contains(banned), "found \(banned)")
        }
        // The only url() references point inside the document (clip paths).
        #expect(!lower.replacingOccurrences(of: "url(#", with: "").contains("url("))
        #expect(!lower.replacingOccurrences(of: "href=\"#", with: "").contains("href="))
    }

    @Test("User text is escaped")
    func escaped() {
        #expect(Self.page.contains("fixture &lt;w2&gt; &amp; co"))
        #expect(Self.page.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"))
        #expect(Self.page.contains("/opt/mia &amp; co/libMIAAttacksThreshold.so"))
        #expect(Self.page.contains("on Xeon &lt;fixture&gt; &amp; co; the C kernels at vector level avx512."))
        #expect(Self.page.contains("kernel SkylakeX (chosen by mia-audit: OpenBLAS took Prescott by itself)"))
        #expect(escapeHTML("a<b>&\"'") == "a&lt;b&gt;&amp;&quot;&#39;")
    }

    @Test("Every number shown equals metrics.json's, rounded the documented way")
    func numbersMatchJSON() throws {
        let json = try JSONSerialization.jsonObject(with: try Self.fixture.summary.jsonData())
        let regex = try NSRegularExpression(pattern: "data-metric=\"([^\"]*)\" data-format=\"([a-z]+)\">([^<]*)</span>")
        let ns = Self.page as NSString
        let matches = regex.matches(in: Self.page, range: NSRange(location: 0, length: ns.length))
        var pointers = Set<String>()
        for m in matches {
            let pointer = ns.substring(with: m.range(at: 1)).replacingOccurrences(of: "&amp;", with: "&")
            let format = ns.substring(with: m.range(at: 2)), shown = ns.substring(with: m.range(at: 3))
            let number = (value(at: pointer, in: json) as? NSNumber)?.doubleValue
            #expect(number != nil, "no number at \(pointer) in metrics.json")
            if let number {
                #expect(expectedText(number, format: format) == shown, "\(pointer): shown \(shown), json \(number)")
            }
            pointers.insert(pointer)
        }
        // The figures the report must show are all there, tagged.
        let summary = Self.fixture.summary
        var required = ["/target/train_accuracy", "/target/test_accuracy", "/total_seconds", "/peak_memory_bytes"]
        for e in summary.orderedAttacks {
            let p = "/attacks/\(e.attack)"
            required += [
                "\(p)/auc", "\(p)/auc_ci/lower", "\(p)/auc_ci/upper", "\(p)/attacker_advantage",
                "\(p)/balanced_accuracy", "\(p)/ppv", "\(p)/threshold", "\(p)/confusion_matrix/tp",
                "\(p)/confusion_matrix/tn", "\(p)/most_at_risk_placeholder",
            ].filter { !$0.hasSuffix("placeholder") }
            for fpr in summary.fprs {
                required += ["\(p)/tpr_at_fpr/\(fprKey(fpr))", "\(p)/tpr_at_fpr_ci/\(fprKey(fpr))/upper"]
            }
            for (k, s) in e.slices.enumerated() where s.metrics.isDefined { required.append("\(p)/slices/\(k)/auc") }
            required.append("/most_at_risk/\(e.attack)/0/score")
        }
        for k in summary.stageSeconds.indices { required.append("/stage_seconds/\(k)/seconds") }
        required += ["/blas/threads", "/blas/gflops"]
        for k in summary.target.history.indices { required.append("/target/history/\(k)/heldout_accuracy") }
        for r in required { #expect(pointers.contains(r), "not shown: \(r)") }
        #expect(matches.count > 200)
    }

    @Test("Every plot is in the page, with drawn paths")
    func plotsPresent() {
        for id in [
            "roc-linear", "roc-log", "scores-0", "scores-1", "scores-2", "history-accuracy", "history-loss", "stages",
        ] {
            #expect(Self.page.contains("<svg class=\"plot\" id=\"\(id)\""), "missing plot \(id)")
        }
        // ROC plots: one curve per attack in each.
        #expect(Self.page.components(separatedBy: "class=\"series\"").count - 1 >= 3 * 2 + 2 + 4)
        #expect(Self.page.contains("Too few distinct scores"))  // the two-valued correctness attack
    }

    @Test("Log axes tick at decades; linear axes at 1-2-5 steps")
    func ticks() {
        let log = PlotAxis(label: "", scale: .log, lower: 1e-4, upper: 1).majorTicks()
        #expect(log.map(\.label) == ["1e-4", "0.001", "0.01", "0.1", "1"])
        let lin = PlotAxis(label: "", lower: 0, upper: 1).majorTicks()
        #expect(lin.map(\.label) == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"])
        #expect(PlotAxis(label: "", lower: -3.2, upper: 7.9).majorTicks().map(\.label) == ["-2", "0", "2", "4", "6"])
    }

    @Test("KDE integrates to about one and peaks near the mode")
    func kde() {
        var rng = TestRandom(5)
        let sample = (0..<3000).map { _ in rng.gaussian() * 2 + 1 }
        let d = scoreDensity(sample, range: (-9, 11))
        let step = d.grid[1] - d.grid[0]
        let area = d.kde.reduce(0, +) * step
        #expect(abs(area - 1) < 0.02)
        let peak = d.grid[d.kde.indices.max { d.kde[$0] < d.kde[$1] }!]
        #expect(abs(peak - 1) < 0.5)
        // Closed form at the mean for N(1, 2): 1 / (2 sqrt(2 pi)) ~ 0.1995 (smoothing lowers it a little).
        let atMean = d.kde[d.grid.indices.min { abs(d.grid[$0] - 1) < abs(d.grid[$1] - 1) }!]
        #expect(abs(atMean - 0.1995) < 0.02)
        let histArea = d.histogram.reduce(0, +) * (d.edges[1] - d.edges[0])
        #expect(abs(histArea - 1) < 1e-9)
    }
}
