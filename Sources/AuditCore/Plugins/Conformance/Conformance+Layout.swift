import Foundation
import PluginABI

extension ConformanceCheck {
    /// The `struct_size` of the descriptor, of each component, option and table: at least the
    /// end of ABI 1.0's last field (the host reads that much) and at most 64 KiB (a size, not
    /// garbage); and the entry declining a major version it does not speak.
    func checkLayout() {
        announce("mia_plugin_entry")
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE),
            let symbol = dlsym(handle, MIA_PLUGIN_ENTRY_SYMBOL)
        else { return }
        let entry = unsafeBitCast(symbol, to: mia_plugin_entry_fn.self)
        guard let d = entry(UInt32(MIA_ABI_MAJOR), UInt32(MIA_ABI_MINOR)) else { return }
        let again = entry(UInt32(MIA_ABI_MAJOR), UInt32(MIA_ABI_MINOR))
        record(
            "mia_plugin_entry twice", again == d ? .ok : .violation,
            again == d ? "the same descriptor" : "a different descriptor the second time (it must be static)")
        let other = entry(UInt32(MIA_ABI_MAJOR) + 1, 0)
        record(
            "mia_plugin_entry(\(MIA_ABI_MAJOR + 1), 0)", other == nil ? .ok : .violation,
            other == nil
                ? "declined a major version it does not speak"
                : "returned a descriptor for a major version it cannot speak")

        func size(_ what: String, _ value: UInt32, atLeast minimum: Int) {
            let ok = Int(value) >= minimum && value <= 65536
            record(
                "\(what).struct_size", ok ? .ok : .violation,
                ok ? "\(value) bytes" : "\(value) bytes; expected at least \(minimum) (ABI 1.0's) and at most 65536")
        }
        size(
            "descriptor", d.pointee.struct_size,
            atLeast: MemoryLayout<mia_plugin_descriptor_t>.offset(of: \.component_count)! + 4)
        guard let components = d.pointee.components else { return }
        for i in 0..<Int(max(0, d.pointee.component_count)) {
            let c = components[i]
            let name = c.name.map { String(cString: $0) } ?? "#\(i)"
            size("component \(name)", c.struct_size, atLeast: MemoryLayout<mia_component_t>.offset(of: \.vtable)! + 8)
            if let options = c.options {
                for j in 0..<Int(max(0, c.option_count)) {
                    let o = options[j]
                    let oname = o.name.map { String(cString: $0) } ?? "#\(j)"
                    size(
                        "option \(name).\(oname)", o.struct_size,
                        atLeast: MemoryLayout<mia_option_t>.offset(of: \.description)! + 8)
                    if let text = o.default_json {
                        let json = String(cString: text)
                        if (try? JSONSerialization.jsonObject(with: Data(json.utf8), options: .fragmentsAllowed)) == nil
                        {
                            record("option \(name).\(oname).default_json", .violation, "`\(json)` is not JSON")
                        }
                    }
                }
            }
            guard let vtable = c.vtable else { continue }
            let tableSize = vtable.load(as: UInt32.self)
            switch c.kind {
            case MIA_COMPONENT_DATASET:
                size(
                    "dataset \(name) vtable", tableSize,
                    atLeast: MemoryLayout<mia_dataset_vtable_t>.offset(of: \.close)! + 8)
            case MIA_COMPONENT_MODEL:
                size(
                    "model \(name) vtable", tableSize,
                    atLeast: MemoryLayout<mia_model_vtable_t>.offset(of: \.destroy)! + 8)
            case MIA_COMPONENT_ATTACK:
                size(
                    "attack \(name) vtable", tableSize,
                    atLeast: MemoryLayout<mia_attack_vtable_t>.offset(of: \.destroy)! + 8)
            default: break
            }
        }
    }
}
