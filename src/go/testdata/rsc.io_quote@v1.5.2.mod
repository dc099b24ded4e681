module "rsc.io/quote"

require "rsc.io/sampler" v1.3.0
