/** Everything on stdin, bytes as they are (no newline trimmed: the value is what was sent). */
export async function readAll(
  stdin: AsyncIterable<Uint8Array | string> | undefined,
): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stdin ?? []) {
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}
