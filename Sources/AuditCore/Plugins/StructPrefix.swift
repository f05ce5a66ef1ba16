import PluginABI

// Reading C structs that a plugin compiled against an older minor version of the ABI: such a
// struct is a prefix of this host's (fields are only ever appended), so the host copies the
// `struct_size` bytes it was given into a zeroed struct of its own and reads that. An appended
// field the plugin did not have reads as zero (NULL, no flags).

/// The struct of `size` bytes at `pointer`, zero past `size` (never more than the host's `T`).
func readPrefix<T>(_ pointer: UnsafeRawPointer, size: UInt32, as type: T.Type) -> T {
    let full = MemoryLayout<T>.size
    let storage = UnsafeMutableRawPointer.allocate(byteCount: full, alignment: MemoryLayout<T>.alignment)
    defer { storage.deallocate() }
    storage.initializeMemory(as: UInt8.self, repeating: 0, count: full)
    storage.copyMemory(from: pointer, byteCount: min(full, Int(size)))
    return storage.load(as: T.self)
}

/// The `struct_size` a size-prefixed table starts with.
func structSize(_ pointer: UnsafeRawPointer) -> UInt32 { pointer.load(as: UInt32.self) }

/// Bytes a table of ABI 1.0 holds: through `lastField`, the last field 1.0 had. A plugin's table
/// smaller than that is refused.
func minimumSize<S, T>(_ lastField: KeyPath<S, T>) -> Int {
    MemoryLayout<S>.offset(of: lastField)! + MemoryLayout<T>.size
}

/// The function table of a component, read through its `struct_size`.
struct ComponentTable<T> {
    let table: T
    let size: UInt32

    init(_ vtable: UnsafeRawPointer) {
        size = structSize(vtable)
        table = readPrefix(vtable, size: size, as: T.self)
    }

    /// A copy of the table in the host's own layout, zero past the plugin's `struct_size`, kept for
    /// the life of the process (as the plugin's own table is): what `ComponentInfo.vtable` points
    /// to, so every reader of a table may name any field of this host's ABI.
    func hostCopy() -> UnsafeRawPointer {
        let p = UnsafeMutablePointer<T>.allocate(capacity: 1)
        p.initialize(to: table)
        return UnsafeRawPointer(p)
    }
}

/// The host's copy of a component's table of `kind` (see `ComponentTable.hostCopy`).
func hostTable(_ kind: ComponentKind, _ vtable: UnsafeRawPointer) -> UnsafeRawPointer {
    switch kind {
    case .dataset: ComponentTable<mia_dataset_vtable_t>(vtable).hostCopy()
    case .model: ComponentTable<mia_model_vtable_t>(vtable).hostCopy()
    case .attack: ComponentTable<mia_attack_vtable_t>(vtable).hostCopy()
    }
}
