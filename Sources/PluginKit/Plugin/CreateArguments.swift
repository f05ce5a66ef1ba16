import Foundation
import PluginABI

/// The host's side of ABI 1.2 creation: builds the `mia_create_args_t` that `create_component` /
/// `open_component` receive (the component descriptor, the host, the options as JSON and as typed
/// `mia_option_value_t`s), lends it to one call and frees it afterwards.
///
/// The typed values follow the schema's types where given (an integer value of a FLOAT option is
/// handed as a float), else the value's own type. Every string and array lives until `body`
/// returns, as the header promises (valid only for the call).
public enum CreateArguments {
    public static func with<R>(
        component: UnsafePointer<mia_component_t>, host: UnsafePointer<mia_host_t>?, options: [String: OptionValue],
        schema: [OptionSpec] = [], _ body: (UnsafePointer<mia_create_args_t>) throws -> R
    ) rethrows -> R {
        var allocations: [UnsafeMutableRawPointer] = []
        defer { for a in allocations { free(a) } }
        func text(_ s: String) -> UnsafePointer<CChar> {
            let p = strdup(s)!
            allocations.append(UnsafeMutableRawPointer(p))
            return UnsafePointer(p)
        }
        func array<T>(_ values: [T]) -> UnsafePointer<T> {
            let p = malloc(max(1, values.count) * MemoryLayout<T>.stride)!
            allocations.append(p)
            let typed = p.bindMemory(to: T.self, capacity: max(1, values.count))
            for (i, v) in values.enumerated() { (typed + i).initialize(to: v) }
            return UnsafePointer(typed)
        }
        let types = Dictionary(schema.map { ($0.name, $0.type) }, uniquingKeysWith: { a, _ in a })
        var typed: [mia_option_value_t] = []
        for key in options.keys.sorted() {
            guard let value = options[key], value != .null else { continue }
            var v = mia_option_value_t()
            v.struct_size = UInt32(MemoryLayout<mia_option_value_t>.size)
            v.name = text(key)
            let type = types[key] ?? value.naturalType
            v.type = type.rawValue
            switch (type, value) {
            case (.bool, .bool(let b)): v.bool_value = b ? 1 : 0
            case (.int, .int(let i)): v.int_value = Int64(i)
            case (.float, .int(let i)): v.float_value = Double(i)
            case (.float, .double(let d)): v.float_value = d
            case (.string, .string(let s)), (.path, .string(let s)): v.string_value = text(s)
            case (.intList, .list(let l)):
                let ints = l.compactMap { if case .int(let i) = $0 { Int64(i) } else { nil } }
                v.int_list = array(ints)
                v.list_length = Int64(ints.count)
            case (.floatList, .list(let l)):
                let doubles = l.compactMap { e -> Double? in
                    switch e {
                    case .int(let i): Double(i)
                    case .double(let d): d
                    default: nil
                    }
                }
                v.float_list = array(doubles)
                v.list_length = Int64(doubles.count)
            case (.stringList, .list(let l)):
                let strings: [UnsafePointer<CChar>?] = l.compactMap {
                    if case .string(let s) = $0 { text(s) } else { nil }
                }
                v.string_list = array(strings)
                v.list_length = Int64(strings.count)
            default: continue  // a value that does not fit its type: only the JSON carries it
            }
            typed.append(v)
        }
        let json = OptionValue.json(options)
        return try json.withCString { j in
            try typed.withUnsafeBufferPointer { values in
                var a = mia_create_args_t()
                a.struct_size = UInt32(MemoryLayout<mia_create_args_t>.size)
                a.component = component
                a.host = host
                a.options_json = j
                a.options = values.baseAddress
                a.option_count = Int32(values.count)
                return try withUnsafePointer(to: &a) { try body($0) }
            }
        }
    }

    /// As `with(component:host:options:schema:_:)`, from the options' JSON text (tests, tools).
    public static func with<R>(
        component: UnsafePointer<mia_component_t>, host: UnsafePointer<mia_host_t>?, json: String,
        schema: [OptionSpec] = [],
        _ body: (UnsafePointer<mia_create_args_t>) throws -> R
    ) throws -> R {
        let values = try PluginOptions(json: json).values
        return try with(component: component, host: host, options: values, schema: schema, body)
    }
}

extension OptionValue {
    /// The option type a value has without a schema.
    var naturalType: OptionType {
        switch self {
        case .bool: .bool
        case .int: .int
        case .double: .float
        case .string, .null: .string
        case .list(let l):
            if l.allSatisfy({ if case .int = $0 { true } else { false } }) {
                .intList
            } else if l.allSatisfy({ if case .string = $0 { true } else { false } }) {
                .stringList
            } else {
                .floatList
            }
        }
    }
}
