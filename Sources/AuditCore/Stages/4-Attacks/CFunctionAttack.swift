import Foundation
import PluginABI
import PluginKit

/// A `c_function` attack presented to the pipeline as an ordinary attack component.
///
/// The host owns a `mia_attack_vtable_t` of its own whose `create` reads the function's
/// signature from its options (`{"c_function": "<CFunctionSpec as JSON>"}`) and whose `score`
/// calls the function once per record through libffi (`CFunctionCall`). So a C function is
/// resolved, cached (its scores' key holds the signature and the library's SHA-256), run,
/// evaluated and reported exactly as a plugin attack is, through `DynamicAttack`.
enum CFunctionAttack {
    /// The component's name in results and `plugins used`.
    static let componentName = "c-function"

    /// The component standing for `spec`, with its options: what `AuditPlan` resolves a
    /// `c_function` attack to.
    static func component(_ spec: CFunctionSpec) -> ResolvedComponent {
        let info = ComponentInfo(
            kind: .attack, name: componentName, summary: spec.prototype, options: [], vtable: UnsafeRawPointer(table),
            plugin: PluginInfo(
                path: spec.library, name: componentName, version: "sha256:" + spec.librarySHA256.prefix(16),
                abiMajor: UInt32(MIA_ABI_MAJOR), abiMinor: 1, toolchain: "c"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let json = String(decoding: (try? encoder.encode(spec)) ?? Data(), as: UTF8.self)
        let options: [String: OptionValue] = ["c_function": .string(json)]
        return ResolvedComponent(info: info, options: options, givenOptions: options)
    }

    /// The host's attack table. Its `struct_size` is ABI 1.1's (up to `destroy`): it offers
    /// nothing a later minor version appends.
    // Safe to share: built once by Swift's thread-safe static initialisation, never written after.
    nonisolated(unsafe) static let table: UnsafeMutablePointer<mia_attack_vtable_t> = {
        let t = UnsafeMutablePointer<mia_attack_vtable_t>.allocate(capacity: 1)
        var v = mia_attack_vtable_t()
        v.struct_size = UInt32(
            MemoryLayout<mia_attack_vtable_t>.offset(of: \.destroy)! + MemoryLayout<UnsafeRawPointer>.size)
        v.create = { _, optionsJSON, out, errorOut in
            do {
                guard let optionsJSON, let out else {
                    throw PluginError(.invalidArgument, "create was given a null pointer")
                }
                let options = try JSONDecoder().decode(
                    [String: String].self, from: Data(String(cString: optionsJSON).utf8))
                guard let json = options["c_function"] else {
                    throw PluginError(.invalidArgument, "the options hold no `c_function` signature")
                }
                let spec = try JSONDecoder().decode(CFunctionSpec.self, from: Data(json.utf8))
                out.pointee = Unmanaged.passRetained(try CFunctionCall(spec)).toOpaque()
                return MIA_OK
            } catch {
                return PluginError.from(error).write(to: errorOut)
            }
        }
        v.requirements = { instance in
            guard let instance else { return 0 }
            return Unmanaged<CFunctionCall>.fromOpaque(instance).takeUnretainedValue().requirements.rawValue
        }
        v.score = { instance, signals, scores, _, error in
            do {
                guard let instance, let signals, let scores else {
                    throw PluginError(.invalidArgument, "score was given a null pointer")
                }
                try Unmanaged<CFunctionCall>.fromOpaque(instance).takeUnretainedValue().score(
                    signals.pointee, into: scores)
                return MIA_OK
            } catch let thrown {
                return PluginError.from(thrown).write(to: error)
            }
        }
        v.destroy = { instance in
            guard let instance else { return }
            Unmanaged<CFunctionCall>.fromOpaque(instance).release()
        }
        t.initialize(to: v)
        return t
    }()
}
