/// The shared options (`--quiet`, `--verbose`, `--plugin-path DIR`) work before the command as
/// well as after it (`mia-audit -v run x.yaml` is `mia-audit run x.yaml -v`): swift-argument-parser
/// reads a subcommand's options only after its name, so those given before it are moved to the
/// end of the arguments (before a `--` terminator, if any) before parsing.
enum GlobalArguments {
    static let flags: Set<String> = ["-q", "--quiet", "-v", "--verbose"]
    static let optionsWithValue: Set<String> = ["--plugin-path"]

    /// `arguments` (without the program name) with the leading shared options moved after the
    /// command; anything else is left as it is.
    static func hoisted(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var i = 0
        while i < arguments.count {
            let a = arguments[i]
            if flags.contains(a) {
                leading.append(a)
                i += 1
            } else if optionsWithValue.contains(a), i + 1 < arguments.count {
                leading += [a, arguments[i + 1]]
                i += 2
            } else if optionsWithValue.contains(where: { a.hasPrefix($0 + "=") }) {
                leading.append(a)
                i += 1
            } else {
                break
            }
        }
        guard !leading.isEmpty, i < arguments.count else { return arguments }
        var rest = Array(arguments[i...])
        let end = rest.firstIndex(of: "--") ?? rest.count
        rest.insert(contentsOf: leading, at: end)
        return rest
    }
}
