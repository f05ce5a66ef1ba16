import PluginKit

/// The training-time defences of the `native` backend that need public records besides the
/// private set (`distillation*`, `teacher_epochs`, `adversarial_*` keys), decoded once with the
/// others.
///
/// Both read the training's auxiliary records (`TrainingData.auxiliaryFeatures`; in an audit,
/// `dataset.public_records`): distillation trains the student on them, adversarial
/// regularization uses them as the inference model's non-members.
struct DefenceOptions: Equatable {
    /// Knowledge distillation (Hinton et al. 2015, as a membership defence: Shejwalkar and
    /// Houmansadr 2021): a teacher trained on the private records, a student trained only on the
    /// teacher's softened outputs on the public records; the student is the model.
    var distillation = false
    /// T of the soft targets softmax(z_teacher / T) and of the student's softmax in the loss.
    var temperature = 4.0
    /// Epochs of the teacher; 0 means `epochs`.
    var teacherEpochs = 0
    /// λ of adversarial regularization (Nasr, Shokri and Houmansadr 2018); 0 is off.
    var adversarialLambda = 0.0
    /// k: inference-model steps before every classifier step.
    var adversarialSteps = 1
    /// Hidden widths of the inference model h (an MLP on [softmax(z), one-hot(y)]).
    var adversarialHiddenSizes = [64, 32]
    /// Adam learning rate of the inference model.
    var adversarialLearningRate = 1e-3

    var adversarial: Bool { adversarialLambda > 0 }
    /// Whether training needs public (auxiliary) records.
    var needsPublicRecords: Bool { distillation || adversarial }

    static let specs: [OptionSpec] = [
        OptionSpec(
            "distillation", .bool, default: "false",
            "knowledge distillation: a teacher trained on the private records, the model a student trained only on the teacher's soft targets on the public records (needs dataset.public_records)"
        ),
        OptionSpec(
            "distillation_temperature", .float, default: "4",
            "distillation: T, the softmax temperature of the soft targets and of the student's loss T^2 KL (the student predicts at T = 1), > 0"
        ).above(0),
        OptionSpec(
            "teacher_epochs", .int, default: "0", "distillation: epochs of the teacher (0: the same as epochs), >= 0"
        ).within(0...1_000_000),
        OptionSpec(
            "adversarial_regularization", .float, default: "0",
            "adversarial regularization (Nasr et al. 2018): lambda, the weight of the inference model's gain on members in the classifier's loss (0: off; needs dataset.public_records as reference non-members), >= 0"
        ).atLeast(0),
        OptionSpec(
            "adversarial_steps", .int, default: "1",
            "adversarial regularization: k, inference-model steps before each classifier step, >= 1"
        ).within(1...1_000_000),
        OptionSpec(
            "adversarial_hidden_sizes", .intList, default: "[64, 32]",
            "adversarial regularization: hidden widths of the inference model, an MLP (ReLU) on the softmax output and the one-hot label"
        ).within(1...65536).length(1...64),
        OptionSpec(
            "adversarial_learning_rate", .float, default: "0.001",
            "adversarial regularization: Adam learning rate of the inference model, > 0"
        ).above(0),
    ]

    init() {}

    init(_ options: PluginOptions) throws {
        if options.has("distillation") { distillation = try options.bool("distillation") }
        if options.has("distillation_temperature") { temperature = try options.double("distillation_temperature") }
        if options.has("teacher_epochs") { teacherEpochs = try options.int("teacher_epochs") }
        if options.has("adversarial_regularization") {
            adversarialLambda = try options.double("adversarial_regularization")
        }
        if options.has("adversarial_steps") { adversarialSteps = try options.int("adversarial_steps") }
        if options.has("adversarial_hidden_sizes") {
            adversarialHiddenSizes = try options.ints("adversarial_hidden_sizes")
        }
        if options.has("adversarial_learning_rate") {
            adversarialLearningRate = try options.double("adversarial_learning_rate")
        }
        func require(_ ok: Bool, _ key: String, _ what: String) throws {
            if !ok { throw PluginError(.invalidArgument, "option `\(key)` must be \(what)") }
        }
        try require(temperature > 0 && temperature.isFinite, "distillation_temperature", "a positive number")
        try require(teacherEpochs >= 0, "teacher_epochs", ">= 0")
        try require(adversarialLambda >= 0 && adversarialLambda.isFinite, "adversarial_regularization", ">= 0")
        try require(adversarialSteps >= 1, "adversarial_steps", ">= 1")
        try require(
            adversarialHiddenSizes.allSatisfy { $0 > 0 }, "adversarial_hidden_sizes", "a list of positive widths")
        try require(
            adversarialLearningRate > 0 && adversarialLearningRate.isFinite, "adversarial_learning_rate",
            "a positive number")
    }

    /// The error of a training that needs public records and was given none.
    static func missingPublicRecords(_ what: String) -> PluginError {
        PluginError(
            .invalidArgument,
            "\(what) needs public records besides the private training set, and the training got none; in an audit config set `dataset.public_records` (e.g. 2000: records after the audit and population records)"
        )
    }
}
