import Foundation

/// CSV reader (Plugins/Datasets/CSV/CSVReader.swift): the input is a delimited file, read
/// record by record with comma, semicolon and tab delimiters; every field is read back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeBufferPointer(start: data, count: size)
    for delimiter in [UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "\t")] {
        var reader = CSVReader(bytes: bytes, delimiter: delimiter, file: "fuzz.csv")
        var records = 0
        while records < 100_000, (try? reader.next()) == true {
            for i in 0..<reader.fieldCount { _ = reader.text(i) }
            records += 1
        }
    }
    return 0
}
