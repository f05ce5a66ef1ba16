import PluginKit

/// `loss-threshold`: minus the loss of the true class (option `loss`).
public enum LossKind: ThresholdKind {
    public static let name = "loss-threshold"
    public static let summary =
        "Loss threshold (Yeom et al. 2018): score = -loss of the true class; higher score = member"
    public static var extraOptions: [OptionSpec] {
        [
            LossFunction.option(
                "loss: cross_entropy (-log p_y), probability (1 - p_y), normalized_probability (1 - p_y / max p)")
        ]
    }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal {
        .negativeLoss(options.has("loss") ? try LossFunction(option: options) : .crossEntropy)
    }
}

/// `confidence`: the probability of the true class.
public enum ConfidenceKind: ThresholdKind {
    public static let name = "confidence"
    public static let summary =
        "Confidence threshold (Salem et al. 2019; Song & Mittal 2021): score = p of the true class; higher score = member"
    public static var extraOptions: [OptionSpec] { [] }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal { .confidence }
}

/// `entropy`: minus the entropy of the predicted distribution.
public enum EntropyKind: ThresholdKind {
    public static let name = "entropy"
    public static let summary =
        "Entropy threshold (Salem et al. 2019; Song & Mittal 2021): score = -entropy of the prediction; higher score = member"
    public static var extraOptions: [OptionSpec] { [] }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal { .negativeEntropy }
}

/// `modified-entropy`: minus Song & Mittal's modified entropy.
public enum ModifiedEntropyKind: ThresholdKind {
    public static let name = "modified-entropy"
    public static let summary =
        "Modified entropy threshold (Song & Mittal 2021): score = -Mentr(p, y); higher score = member"
    public static var extraOptions: [OptionSpec] { [] }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal { .negativeModifiedEntropy }
}

/// `correctness`: 1 when the prediction is right.
public enum CorrectnessKind: ThresholdKind {
    public static let name = "correctness"
    public static let summary =
        "Correctness (Yeom et al. 2018; Song & Mittal 2021): score = 1 if the predicted class is the true class; higher score = member"
    public static var extraOptions: [OptionSpec] { [] }
    public static func signal(_ options: PluginOptions) throws -> OutputSignal { .correctness }
}

/// The five threshold attacks, by their Swift names.
public typealias LossThresholdAttack = ThresholdAttack<LossKind>
public typealias ConfidenceAttack = ThresholdAttack<ConfidenceKind>
public typealias EntropyAttack = ThresholdAttack<EntropyKind>
public typealias ModifiedEntropyAttack = ThresholdAttack<ModifiedEntropyKind>
public typealias CorrectnessAttack = ThresholdAttack<CorrectnessKind>
