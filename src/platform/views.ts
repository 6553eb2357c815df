import { renderMarkdown } from './markdown.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import nunjucks from 'nunjucks';
import { roleLabels, type Role } from './roles.js';

/** The project root, whether running from src/ (tsx) or dist/ (compiled): both sit one level down. */
export const projectRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const londonDate = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'Europe/London' });
const londonDateTime = new Intl.DateTimeFormat('en-GB', {
  day: 'numeric',
  month: 'short',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'Europe/London',
});

export function formatDate(value: string | null | undefined): string {
  if (!value) return '';
  const parsed = new Date(value.length === 10 ? `${value}T12:00:00Z` : value);
  return Number.isNaN(parsed.getTime()) ? value : londonDate.format(parsed);
}

export function formatDateTime(value: string | null | undefined): string {
  if (!value) return '';
  const parsed = new Date(value);
  return Number.isNaN(parsed.getTime()) ? value : londonDateTime.format(parsed);
}

/** Nunjucks with autoescape on; templates are named by their path under src/ (e.g. "platform/views/error.njk"). */
export function createViews(): nunjucks.Environment {
  const loader = new nunjucks.FileSystemLoader([join(projectRoot, 'src'), join(projectRoot, 'node_modules', 'govuk-frontend', 'dist')], {
    noCache: process.env.NODE_ENV === 'development' && process.env.HAVEN_TEMPLATE_RELOAD === '1',
  });
  const env = new nunjucks.Environment(loader, { autoescape: true, throwOnUndefined: false });
  env.addFilter('date', formatDate);
  // Markdown with raw HTML off: the output is safe to mark | safe.
  env.addFilter('markdown', (text: string) => renderMarkdown(text ?? ''));
  env.addFilter('dateTime', formatDateTime);
  env.addFilter('roleLabel', (role: string) => roleLabels[role as Role] ?? role);
  return env;
}
