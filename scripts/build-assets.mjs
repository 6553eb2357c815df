// Compiles Haven's stylesheet (govuk-frontend SCSS with Haven's settings) and copies
// govuk-frontend's script and images into public/build, served under /assets.
import { compile } from 'sass';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'public', 'build');
mkdirSync(out, { recursive: true });
const govuk = join(root, 'node_modules', 'govuk-frontend', 'dist', 'govuk');
const css = compile(join(root, 'assets', 'haven.scss'), {
  loadPaths: [join(root, 'node_modules')],
  style: 'compressed',
  quietDeps: true,
  silenceDeprecations: ['import', 'global-builtin'],
});
writeFileSync(join(out, 'haven.css'), css.css);
cpSync(join(govuk, 'govuk-frontend.min.js'), join(out, 'govuk-frontend.min.js'));
cpSync(join(govuk, 'assets', 'images'), join(out, 'govuk', 'images'), { recursive: true });
cpSync(join(root, 'assets', 'haven.js'), join(out, 'haven.js'));
cpSync(join(root, 'assets', 'haven-icon.svg'), join(out, 'haven-icon.svg'));
console.log(`assets built in ${out}`);
