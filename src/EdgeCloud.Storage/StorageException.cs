namespace EdgeCloud.Storage;

/// <summary>
/// A storage step failed for a reason worth showing to the operator as it is (a corrupt image, a
/// checksum mismatch, a missing file, a failed qemu-img command). The message is complete: it names the
/// file or URL and what was wrong.
/// </summary>
public class StorageException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A download stopped part-way (connection lost, server error); the partial file is kept for a resume.</summary>
public sealed class TransferInterruptedException(string message, Exception? inner = null) : StorageException(message, inner);
