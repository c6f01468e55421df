/**
 * The backup and restore commands of docs/operators.md ("Backup and restore"), as the restore
 * drill (tests/integration/restoreDrill.test.ts) runs them; docs.test checks that the documented
 * block holds exactly these lines. Placeholders: $HOST, $PORT, $USER, $DB, $NEW_DB, $KEYS_DIR,
 * $BACKUP (a folder for the backup files).
 */
export const BACKUP_COMMANDS = [
  'mariadb-dump --single-transaction --routines --triggers --no-tablespaces -h $HOST -P $PORT -u $USER $DB > $BACKUP/onedoor.sql',
  'tar -czf $BACKUP/onedoor-keys.tgz -C $KEYS_DIR .',
] as const;

export const RESTORE_COMMANDS = [
  'mariadb -h $HOST -P $PORT -u $USER -e "CREATE DATABASE $NEW_DB CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"',
  'mariadb -h $HOST -P $PORT -u $USER $NEW_DB < $BACKUP/onedoor.sql',
  'mkdir -p $KEYS_DIR && tar -xzf $BACKUP/onedoor-keys.tgz -C $KEYS_DIR',
] as const;

/** A command with its placeholders filled in. */
export function fill(command: string, values: Record<string, string>): string {
  return command.replace(/\$([A-Z_]+)/g, (m, name: string) => values[name] ?? m);
}
