/**
 * Haven's default phrase list, written for Haven (not taken from any third-party list). A school starts
 * with it and its DSL edits it on the phrase-list page; the scale is described in phrases.ts.
 */
export const defaultPhraseList = `# Haven's default phrase list.
# One entry per line:       theme | weight | severity | phrase
# A combination (all parts must appear, in any order):  theme | weight | severity | part + part
#
# Weights (an alert needs 10 unless the group has its own threshold):
#   15  strong: alerts on its own, and still alerts (one severity lower) beside a softening context
#   10  clear: alerts on its own
#    5  weak: alerts only with another phrase; also used for "how to + …" boosters
#   -2  softening context (help-seeking, support, awareness): lowers the severity by one
#  -10  benign context (a film, history, science, a game, pets): cancels one strong phrase
# Severity: 5 risk to life or illegal content, 4 serious, 3 concerning, 2 low, 1 for information.
# Negative entries have no severity of their own; it is written as 1.
#
# Text is matched after normalising: case, accents, leetspeak (k1ll), spacing tricks (s u i c i d e),
# punctuation and apostrophes do not matter, and phrases match whole words only.
# A child searching for help is still a concern: help-seeking lowers the severity, it does not silence.

# Suicide
suicide | 15 | 5 | kill myself
suicide | 15 | 5 | end my life
suicide | 15 | 5 | take my own life
suicide | 15 | 5 | suicide note
suicide | 15 | 5 | suicide methods
suicide | 15 | 5 | painless way to die
suicide | 15 | 5 | hang myself
suicide | 15 | 5 | how to + noose
suicide | 15 | 5 | how to + overdose
suicide | 15 | 4 | want to die
suicide | 15 | 4 | don't want to live
suicide | 15 | 4 | don't want to be alive
suicide | 15 | 4 | feeling suicidal
suicide | 15 | 3 | suicide
suicide | 15 | 3 | suicidal
suicide | 10 | 4 | better off dead
suicide | 10 | 4 | better off without me
suicide | 10 | 4 | no reason to live
suicide | 5 | 4 | how many + paracetamol
suicide | 5 | 3 | overdose
suicide | 5 | 3 | ways to die
suicide | 5 | 2 | hate my life
suicide | -2 | 1 | helpline
suicide | -2 | 1 | samaritans
suicide | -2 | 1 | childline
suicide | -2 | 1 | how to help
suicide | -2 | 1 | prevention
suicide | -2 | 1 | awareness
suicide | -2 | 1 | homework
suicide | -10 | 1 | don't want to die
suicide | -10 | 1 | suicide squad
suicide | -10 | 1 | suicide bomber
suicide | -10 | 1 | film
suicide | -10 | 1 | movie
suicide | -10 | 1 | lyrics
suicide | -10 | 1 | statistics
suicide | -10 | 1 | rates
suicide | -10 | 1 | assisted
suicide | -10 | 1 | euthanasia
suicide | -10 | 1 | history of

# Self-harm
self_harm | 15 | 3 | self harm
self_harm | 15 | 3 | self harming
self_harm | 15 | 3 | self harmed
self_harm | 15 | 4 | cutting myself
self_harm | 15 | 4 | want to hurt myself
self_harm | 15 | 4 | hide cuts
self_harm | 15 | 4 | pro ana
self_harm | 15 | 4 | pro mia
self_harm | 15 | 3 | thinspiration
self_harm | 10 | 3 | thinspo
self_harm | 10 | 3 | cut myself
self_harm | 10 | 3 | hurt myself
self_harm | 10 | 3 | hurting myself
self_harm | 10 | 3 | burn myself
self_harm | 10 | 3 | starve myself
self_harm | 10 | 2 | make myself sick
self_harm | 10 | 2 | i hate myself
self_harm | 10 | 2 | punish myself
self_harm | 5 | 4 | how to + cut myself
self_harm | 5 | 4 | how to + hurt myself
self_harm | 5 | 4 | how to + burn myself
self_harm | 5 | 4 | hide + self harm
self_harm | 5 | 3 | how to stop eating
self_harm | -2 | 1 | support
self_harm | -2 | 1 | helpline
self_harm | -2 | 1 | childline
self_harm | -2 | 1 | how to help
self_harm | -2 | 1 | signs of
self_harm | -2 | 1 | awareness
self_harm | -2 | 1 | first aid
self_harm | -10 | 1 | shaving
self_harm | -10 | 1 | cooking
self_harm | -10 | 1 | by accident
self_harm | -10 | 1 | accidentally
self_harm | -10 | 1 | statistics
self_harm | -10 | 1 | lyrics

# Bullying
bullying | 10 | 3 | bullying me
bullying | 10 | 2 | being bullied
bullying | 10 | 2 | getting bullied
bullying | 10 | 2 | picked on
bullying | 10 | 2 | everyone hates me
bullying | 10 | 2 | nobody likes me
bullying | 10 | 2 | no one likes me
bullying | 10 | 2 | hate me + school
bullying | 10 | 2 | hates me + school
bullying | 10 | 2 | hate me + class
bullying | 10 | 2 | no friends + school
bullying | 10 | 2 | am i ugly
bullying | 10 | 3 | kys
bullying | 10 | 3 | kill yourself
bullying | 10 | 2 | how to get revenge on
bullying | 10 | 2 | how to ruin someone's life
bullying | 10 | 2 | embarrassing photos of
bullying | 5 | 2 | bully
bullying | 5 | 2 | bullies
bullying | 5 | 1 | bullying
bullying | 5 | 1 | cyberbullying
bullying | -2 | 1 | how to report
bullying | -2 | 1 | how to help
bullying | -2 | 1 | childline
bullying | -10 | 1 | anti bullying
bullying | -10 | 1 | poster
bullying | -10 | 1 | essay
bullying | -10 | 1 | homework
bullying | -10 | 1 | definition
bullying | -10 | 1 | what is
bullying | -10 | 1 | policy
bullying | -10 | 1 | american bully
bullying | -10 | 1 | xl bully
bullying | -10 | 1 | bully game

# Extremism and radicalisation (Prevent)
extremism | 15 | 5 | join isis
extremism | 15 | 5 | join the islamic state
extremism | 15 | 4 | how to join + terrorist
extremism | 15 | 4 | how to join + far right
extremism | 15 | 4 | how to join + neo nazi
extremism | 15 | 4 | shooter + manifesto
extremism | 10 | 3 | neo nazi
extremism | 10 | 3 | white power
extremism | 10 | 3 | white genocide
extremism | 10 | 3 | great replacement
extremism | 10 | 3 | race war
extremism | 10 | 3 | 1488
extremism | 10 | 3 | jihadi
extremism | 10 | 3 | martyrdom operation
extremism | 10 | 3 | incel
extremism | 10 | 3 | accelerationism
extremism | 5 | 2 | isis
extremism | 5 | 2 | jihad
extremism | 5 | 2 | nazi
extremism | 5 | 2 | caliphate
extremism | 5 | 2 | infidels
extremism | 5 | 2 | blackpill
extremism | 5 | 2 | manifesto
extremism | -2 | 1 | what is
extremism | -2 | 1 | prevent
extremism | -2 | 1 | how to report
extremism | -10 | 1 | history of
extremism | -10 | 1 | ww2
extremism | -10 | 1 | world war
extremism | -10 | 1 | holocaust
extremism | -10 | 1 | goddess
extremism | -10 | 1 | egyptian
extremism | -10 | 1 | documentary
extremism | -10 | 1 | news
extremism | -10 | 1 | gcse
extremism | -10 | 1 | homework

# Sexual content
sexual | 15 | 5 | child porn
sexual | 15 | 5 | underage + nudes
sexual | 15 | 5 | underage + porn
sexual | 10 | 3 | nudes
sexual | 10 | 3 | send nudes
sexual | 10 | 3 | naked pictures
sexual | 10 | 3 | naked photos
sexual | 10 | 2 | porn
sexual | 10 | 2 | porno
sexual | 10 | 2 | pornhub
sexual | 10 | 2 | xxx
sexual | 10 | 2 | nsfw
sexual | 10 | 2 | hentai
sexual | 10 | 2 | onlyfans
sexual | 10 | 2 | rule 34
sexual | 10 | 2 | sex video
sexual | 10 | 2 | sex tape
sexual | 5 | 2 | sexting
sexual | 5 | 1 | sex
sexual | 5 | 1 | naked
sexual | 5 | 1 | boobs
sexual | -2 | 1 | is it illegal
sexual | -2 | 1 | law
sexual | -2 | 1 | dangers of
sexual | -2 | 1 | consent
sexual | -2 | 1 | sexual health
sexual | -10 | 1 | sex education
sexual | -10 | 1 | relationships and sex
sexual | -10 | 1 | sex of
sexual | -10 | 1 | biology
sexual | -10 | 1 | gender
sexual | -10 | 1 | naked mole rat
sexual | -10 | 1 | naked eye
sexual | -10 | 1 | sex pistols

# Grooming and exploitation
grooming | 15 | 5 | blackmailing me
grooming | 15 | 5 | threatening to share + my
grooming | 15 | 4 | am i being groomed
grooming | 15 | 4 | asked me for nudes
grooming | 15 | 4 | wants me to send + pictures
grooming | 15 | 4 | wants me to send + photos
grooming | 15 | 4 | wants me to send + nudes
grooming | 10 | 4 | sextortion
grooming | 10 | 3 | groomed
grooming | 10 | 3 | older boyfriend
grooming | 10 | 3 | secret boyfriend
grooming | 10 | 3 | secret girlfriend
grooming | 10 | 3 | online boyfriend
grooming | 10 | 3 | meet + someone i met online
grooming | 10 | 3 | met online + meet up
grooming | 10 | 3 | ceop
grooming | 10 | 3 | county lines
grooming | 5 | 2 | grooming
grooming | 5 | 2 | age gap
grooming | 5 | 2 | don't tell my parents
grooming | 5 | 2 | gifts + older
grooming | -2 | 1 | what is
grooming | -2 | 1 | signs of
grooming | -2 | 1 | how to report
grooming | -10 | 1 | dog
grooming | -10 | 1 | dogs
grooming | -10 | 1 | puppy
grooming | -10 | 1 | cat
grooming | -10 | 1 | pet
grooming | -10 | 1 | horse
grooming | -10 | 1 | salon
grooming | -10 | 1 | beard
grooming | -10 | 1 | documentary

# Drugs
drugs | 15 | 3 | buy weed
drugs | 15 | 3 | where to buy + weed
drugs | 15 | 4 | where to buy + drugs
drugs | 15 | 4 | buy + cocaine
drugs | 15 | 4 | buy + mdma
drugs | 15 | 3 | how to get high
drugs | 10 | 3 | drug dealer
drugs | 10 | 3 | cocaine
drugs | 10 | 3 | ketamine
drugs | 10 | 3 | mdma
drugs | 10 | 3 | xanax
drugs | 10 | 2 | magic mushrooms
drugs | 10 | 2 | lsd
drugs | 10 | 2 | get high
drugs | 10 | 2 | roll a joint
drugs | 10 | 2 | hide + vape
drugs | 5 | 2 | weed
drugs | 5 | 2 | cannabis
drugs | 5 | 2 | ecstasy
drugs | 5 | 2 | edibles
drugs | 5 | 2 | nitrous oxide
drugs | 5 | 2 | laughing gas
drugs | 5 | 2 | overdose
drugs | 5 | 1 | vape
drugs | -2 | 1 | is it illegal
drugs | -2 | 1 | dangers of
drugs | -2 | 1 | how to quit
drugs | -2 | 1 | awareness
drugs | -10 | 1 | effects of
drugs | -10 | 1 | weed killer
drugs | -10 | 1 | garden
drugs | -10 | 1 | chemistry
drugs | -10 | 1 | science
drugs | -10 | 1 | dentist
drugs | -10 | 1 | history of
drugs | -10 | 1 | gcse
drugs | -10 | 1 | homework

# Weapons
weapons | 15 | 5 | make a bomb
weapons | 15 | 5 | pipe bomb
weapons | 15 | 5 | how to make + explosives
weapons | 15 | 4 | buy a gun
weapons | 15 | 4 | how to make a gun
weapons | 15 | 4 | 3d printed gun
weapons | 15 | 4 | zombie knife
weapons | 10 | 3 | buy a knife
weapons | 10 | 3 | carry a knife
weapons | 10 | 3 | knife to school
weapons | 10 | 3 | flick knife
weapons | 10 | 3 | knuckle duster
weapons | 10 | 3 | gun for sale
weapons | 5 | 2 | butterfly knife
weapons | 5 | 2 | machete
weapons | 5 | 2 | taser
weapons | 5 | 2 | pepper spray
weapons | 5 | 2 | knife crime
weapons | -2 | 1 | first aid
weapons | -2 | 1 | amnesty
weapons | -2 | 1 | how to report
weapons | -10 | 1 | minecraft
weapons | -10 | 1 | roblox
weapons | -10 | 1 | fortnite
weapons | -10 | 1 | call of duty
weapons | -10 | 1 | csgo
weapons | -10 | 1 | nerf
weapons | -10 | 1 | lego
weapons | -10 | 1 | water gun
weapons | -10 | 1 | paper
weapons | -10 | 1 | bath bomb
weapons | -10 | 1 | kitchen
weapons | -10 | 1 | cooking
weapons | -10 | 1 | history of
weapons | -10 | 1 | statistics
weapons | -10 | 1 | news

# Violence
violence | 10 | 2 | fight video
violence | 10 | 2 | fight videos
violence | 10 | 2 | fights compilation
violence | 10 | 2 | school fight
violence | 10 | 2 | school fights
violence | 10 | 2 | street fight
violence | 10 | 3 | kill someone
violence | 10 | 3 | hurt someone
violence | 10 | 3 | poison someone
violence | 10 | 3 | beat someone up
violence | 10 | 3 | happy slapping
violence | 10 | 3 | beheading
violence | 10 | 3 | gore
violence | 10 | 4 | want to kill + my
violence | 5 | 4 | how to + kill someone
violence | 5 | 4 | how to + hurt someone
violence | 5 | 4 | how to + poison someone
violence | 5 | 4 | gore + video
violence | 5 | 4 | beheading + video
violence | 10 | 4 | murder + video
violence | 10 | 4 | stabbing + video
violence | 5 | 2 | murder
violence | 5 | 2 | stabbing
violence | -2 | 1 | how to stop
violence | -2 | 1 | self defence
violence | -10 | 1 | kill myself
violence | -10 | 1 | minecraft
violence | -10 | 1 | roblox
violence | -10 | 1 | fortnite
violence | -10 | 1 | game
violence | -10 | 1 | boxing
violence | -10 | 1 | ufc
violence | -10 | 1 | wwe
violence | -10 | 1 | pillow fight
violence | -10 | 1 | food fight
violence | -10 | 1 | film
violence | -10 | 1 | movie
violence | -10 | 1 | murder mystery
violence | -10 | 1 | history of
violence | -10 | 1 | anne boleyn
violence | -10 | 1 | tudor
violence | -10 | 1 | al gore
violence | -10 | 1 | gore tex
violence | -10 | 1 | news

# Hate and discrimination
hate | 15 | 3 | hate jews
hate | 15 | 3 | hate muslims
hate | 15 | 3 | hate black people
hate | 15 | 3 | hate gay people
hate | 15 | 3 | hate trans people
hate | 15 | 3 | hate immigrants
hate | 10 | 3 | holocaust hoax
hate | 10 | 3 | holocaust never happened
hate | 10 | 3 | holocaust didn't happen
hate | 10 | 3 | kkk
hate | 10 | 2 | racist jokes
hate | 10 | 2 | homophobic jokes
hate | 10 | 2 | sexist jokes
hate | 10 | 2 | go back to your country
hate | 5 | 2 | white supremacy
hate | 5 | 2 | racist
hate | 5 | 2 | n word
hate | -2 | 1 | how to report
hate | -2 | 1 | why is
hate | -2 | 1 | what to do
hate | -10 | 1 | history
hate | -10 | 1 | civil rights
hate | -10 | 1 | essay
hate | -10 | 1 | news
hate | -10 | 1 | gcse
hate | -10 | 1 | homework
`;
