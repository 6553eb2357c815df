/** Builds SIMS-style pupil exports for import tests: fictional names, deterministic. */
const first = ['Ada', 'Ben', 'Cara', 'Dev', 'Esi', 'Finn', 'Gia', 'Hal', 'Iris', 'Jon', 'Kai', 'Lena', 'Milo', 'Nell', 'Omar', 'Pia'];
const last = ['Arden', 'Birch', 'Colley', 'Drake', 'Eaves', 'Frome', 'Gale', 'Heath', 'Irwin', 'Joss', 'Kemp', 'Lowe', 'Mayo', 'Nash'];

export const simsHeaders = [
  'Adno',
  'UPN',
  'Legal Surname',
  'Legal Forename',
  'Preferred Forename',
  'DOB',
  'Gender',
  'Year',
  'Reg',
  'SEN Status',
  'EAL',
  'In Care',
  'Admission Date',
];

export interface PupilRow {
  adno: string;
  cells: string[];
}

export function simsPupils(count: number): PupilRow[] {
  return Array.from({ length: count }, (_, i) => {
    const year = i % 7;
    const adno = String(100000 + i);
    return {
      adno,
      cells: [
        adno,
        `A${String(800000000000 + i)}`,
        last[i % last.length]!,
        first[i % first.length]!,
        i % 9 === 0 ? 'Sunny' : '',
        `${String(1 + (i % 28)).padStart(2, '0')}/0${1 + (i % 9)}/${2020 - year}`,
        i % 2 ? 'M' : 'F',
        year === 0 ? 'R' : String(year),
        `${year === 0 ? 'R' : year}${i % 2 ? 'K' : 'M'}`,
        i % 11 === 0 ? 'K' : 'N',
        i % 5 === 0 ? 'Y' : 'N',
        'N',
        '01/09/2022',
      ],
    };
  });
}

export function toCsv(headers: string[], rows: string[][]): string {
  const quote = (cell: string) => (/[",\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell);
  return [headers, ...rows].map((row) => row.map(quote).join(',')).join('\r\n') + '\r\n';
}
