import PluginABI

/// The bounds a component declares for one option (ABI 1.2 `mia_option_t.range_flags` and the
/// fields after it): numeric bounds of an int or float option, or of every element of a numeric
/// list, and bounds of a list's length. The host checks them, with the types, in one function
/// (AuditCore's `OptionChecker`) for `validate` and `run` alike.
public struct OptionRange: Sendable, Equatable {
    public var minimum: Double?
    public var maximum: Double?
    /// The bound itself is not allowed (`> minimum`, `< maximum`).
    public var minimumExclusive = false
    public var maximumExclusive = false
    public var minLength: Int?
    public var maxLength: Int?

    public init(
        minimum: Double? = nil, maximum: Double? = nil, minimumExclusive: Bool = false, maximumExclusive: Bool = false,
        minLength: Int? = nil, maxLength: Int? = nil
    ) {
        self.minimum = minimum
        self.maximum = maximum
        self.minimumExclusive = minimumExclusive
        self.maximumExclusive = maximumExclusive
        self.minLength = minLength
        self.maxLength = maxLength
    }

    /// No bound at all (what a plugin of ABI 1.0 or 1.1 declares).
    public static let none = OptionRange()

    public var isEmpty: Bool { self == .none }

    /// Why `value` is out of range (`"must be > 0"`), or nil when it is in range.
    public func violation(_ value: Double) -> String? {
        if let m = minimum, minimumExclusive ? !(value > m) : !(value >= m) { return "must be " + bounds }
        if let m = maximum, maximumExclusive ? !(value < m) : !(value <= m) { return "must be " + bounds }
        return nil
    }

    /// Why a list of `count` elements has a wrong length, or nil when its length is allowed.
    public func lengthViolation(_ count: Int) -> String? {
        if let m = minLength, count < m { return "must have " + lengths + " elements, not \(count)" }
        if let m = maxLength, count > m { return "must have " + lengths + " elements, not \(count)" }
        return nil
    }

    /// The numeric bounds as a person reads them: `> 0`, `>= 1`, `in [0, 1]`, `in (0, 1]`.
    public var bounds: String {
        switch (minimum, maximum) {
        case let (lo?, hi?):
            return "in \(minimumExclusive ? "(" : "[")\(Self.text(lo)), \(Self.text(hi))\(maximumExclusive ? ")" : "]")"
        case let (lo?, nil): return "\(minimumExclusive ? ">" : ">=") \(Self.text(lo))"
        case let (nil, hi?): return "\(maximumExclusive ? "<" : "<=") \(Self.text(hi))"
        case (nil, nil): return "any number"
        }
    }

    /// The length bounds as a person reads them: `1 to 8`, `at least 1`, `at most 8`.
    public var lengths: String {
        switch (minLength, maxLength) {
        case let (lo?, hi?): return lo == hi ? "exactly \(lo)" : "\(lo) to \(hi)"
        case let (lo?, nil): return "at least \(lo)"
        case let (nil, hi?): return "at most \(hi)"
        case (nil, nil): return "any number of"
        }
    }

    /// One line for `mia-audit plugins describe`, or nil when there is no bound.
    public var summary: String? {
        var parts: [String] = []
        if minimum != nil || maximum != nil { parts.append(bounds) }
        if minLength != nil || maxLength != nil { parts.append("length " + lengths) }
        return parts.isEmpty ? nil : parts.joined(separator: ", ")
    }

    public static func text(_ x: Double) -> String {
        x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    }
}

extension OptionSpec {
    /// This option with values `>= minimum` (`> minimum` when `exclusive`).
    public func atLeast(_ minimum: Double, exclusive: Bool = false) -> OptionSpec {
        var s = self
        s.range.minimum = minimum
        s.range.minimumExclusive = exclusive
        return s
    }

    /// This option with values `> minimum`.
    public func above(_ minimum: Double) -> OptionSpec { atLeast(minimum, exclusive: true) }

    /// This option with values `<= maximum` (`< maximum` when `exclusive`).
    public func atMost(_ maximum: Double, exclusive: Bool = false) -> OptionSpec {
        var s = self
        s.range.maximum = maximum
        s.range.maximumExclusive = exclusive
        return s
    }

    /// This option with values in `bounds` (inclusive).
    public func within(_ bounds: ClosedRange<Double>) -> OptionSpec {
        atLeast(bounds.lowerBound).atMost(bounds.upperBound)
    }

    /// This list option with `lengths` elements.
    public func length(_ lengths: ClosedRange<Int>) -> OptionSpec {
        var s = self
        s.range.minLength = lengths.lowerBound
        s.range.maxLength = lengths.upperBound
        return s
    }

    /// This list option with at least `minimum` elements.
    public func length(atLeast minimum: Int) -> OptionSpec {
        var s = self
        s.range.minLength = minimum
        return s
    }
}

extension OptionRange {
    /// The range as the ABI carries it, written into `option`'s 1.2 fields.
    func write(to option: inout mia_option_t) {
        var flags: UInt32 = 0
        if let m = minimum { flags |= UInt32(MIA_RANGE_HAS_MINIMUM); option.minimum = m }
        if let m = maximum { flags |= UInt32(MIA_RANGE_HAS_MAXIMUM); option.maximum = m }
        if minimumExclusive { flags |= UInt32(MIA_RANGE_MINIMUM_EXCLUSIVE) }
        if maximumExclusive { flags |= UInt32(MIA_RANGE_MAXIMUM_EXCLUSIVE) }
        if let m = minLength { flags |= UInt32(MIA_RANGE_HAS_MIN_LENGTH); option.min_length = Int64(m) }
        if let m = maxLength { flags |= UInt32(MIA_RANGE_HAS_MAX_LENGTH); option.max_length = Int64(m) }
        option.range_flags = flags
    }

    /// The range of `option`, read from its 1.2 fields when its `struct_size` covers them.
    public init(_ option: mia_option_t) {
        self.init()
        guard abiCovers(option.struct_size, \mia_option_t.max_length) else { return }
        let f = option.range_flags
        if f & UInt32(MIA_RANGE_HAS_MINIMUM) != 0 { minimum = option.minimum }
        if f & UInt32(MIA_RANGE_HAS_MAXIMUM) != 0 { maximum = option.maximum }
        minimumExclusive = f & UInt32(MIA_RANGE_MINIMUM_EXCLUSIVE) != 0
        maximumExclusive = f & UInt32(MIA_RANGE_MAXIMUM_EXCLUSIVE) != 0
        if f & UInt32(MIA_RANGE_HAS_MIN_LENGTH) != 0 { minLength = Int(clamping: option.min_length) }
        if f & UInt32(MIA_RANGE_HAS_MAX_LENGTH) != 0 { maxLength = Int(clamping: option.max_length) }
    }
}
