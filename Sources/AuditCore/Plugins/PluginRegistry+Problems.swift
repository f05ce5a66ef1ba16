/// How the host words what did not load: a library refused whole, or one component of a loaded
/// library ignored; and, when a config names a component that was not found, which refused
/// libraries might have held it and why they were refused.
extension PluginProblem {
    /// `plugin not loaded` for a library refused whole, `component ignored` for a duplicate
    /// component of a library that is otherwise in use.
    public var heading: String { libraryLoaded ? "component ignored" : "plugin not loaded" }
}

extension PluginRegistry {
    /// Appended to "no plugin named X": the libraries that were refused, each with its reason
    /// (the component may be in one of them); empty when every library loaded.
    var refusedLibrariesNote: String {
        let refused = problems.filter { !$0.libraryLoaded }
        guard !refused.isEmpty else { return "" }
        let shown = refused.prefix(5).map { "\($0.path): \($0.reason)" }.joined(separator: "; ")
        return " [it may be in a library that was not loaded: " + shown
            + (refused.count > 5 ? "; and \(refused.count - 5) more" : "") + "]"
    }
}
